/*
 * disk/vhd_internal.h -- private to disk/: the VHD on-disk structures as
 * described in Microsoft's "Virtual Hard Disk Image Format Specification"
 * (version 1.0, 2006), the in-memory image, and the pieces the offline tools
 * (vhd_tool.c) share with the block-device code (vhd.c).
 *
 * File layouts written by vsx (all offsets 512-aligned):
 *   fixed:        [data: current_size bytes][footer]
 *   dynamic/diff: [footer copy][dynamic header 1024][BAT][parent locator
 *                  data (differencing only)][block: bitmap + data]...[footer]
 *
 * Crash-safety scheme (see vhd_alloc_block): a block is always appended at
 * the first free offset after the last referenced block.  Before any data is
 * written there, the file is extended by writing the (unchanging) footer
 * past the new block, so the last 512 bytes of the file are a valid footer
 * at every moment a process can be killed.  Data and bitmap go next, are
 * fdatasync'ed, and only then is the 4-byte BAT entry written.  A crash
 * before the BAT write leaves unreferenced space, which open tolerates and
 * reuses.  Should a power loss tear the extension, the trailing footer may be
 * missing: open then recovers from the footer copy at offset 0 (as the
 * specification intends that copy for) and, when writable, appends a fresh
 * footer.
 */
#ifndef VSX_DISK_VHD_INTERNAL_H
#define VSX_DISK_VHD_INTERNAL_H

#include <stdio.h>

#include "disk/disk.h"

#define VHD_FOOTER_SIZE 512u
#define VHD_HEADER_SIZE 1024u
#define VHD_TYPE_FIXED 2u
#define VHD_TYPE_DYNAMIC 3u
#define VHD_TYPE_DIFF 4u
#define VHD_VERSION 0x00010000u
#define VHD_UNUSED 0xFFFFFFFFu
#define VHD_NO_OFFSET 0xFFFFFFFFFFFFFFFFull
#define VHD_MAX_SIZE (2040ull << 30)     /* the specification's limit */
#define VHD_DEFAULT_SIZE (127ull << 30)
#define VHD_DEFAULT_BLOCK (2u << 20)
#define VHD_EPOCH_UNIX 946684800ll       /* 2000-01-01 00:00:00 UTC */
#define VHD_MAX_CHAIN 32
#define VHD_LOCATORS 8
#define VHD_DIRTY_MAX 64      /* blocks with unwritten bitmap bits */
#define VHD_DIRTY_WRITES 256  /* writes before the bits are written anyway */

/* Platform codes of parent locators (specification, "Parent Locator Entry"). */
#define VHD_PLAT_W2RU 0x57327275u /* "W2ru": relative path, UTF-16LE */
#define VHD_PLAT_W2KU 0x57326B75u /* "W2ku": absolute path, UTF-16LE */
#define VHD_PLAT_MACX 0x4D616358u /* "MacX": file URL, UTF-8 */

typedef struct VhdFooter {
    uint32_t features;
    uint32_t version;
    uint64_t data_offset;
    uint32_t timestamp;
    char creator_app[4];
    uint32_t creator_version;
    char creator_os[4];
    uint64_t original_size;
    uint64_t current_size;
    uint16_t cylinders;
    uint8_t heads, sectors;
    uint32_t disk_type;
    uint32_t checksum;
    uint8_t uuid[16];
    uint8_t saved_state;
} VhdFooter;

typedef struct VhdLocator {
    uint32_t code, space, length;
    uint64_t offset;
} VhdLocator;

typedef struct VhdHeader {
    uint64_t data_offset;
    uint64_t table_offset;
    uint32_t version;
    uint32_t max_entries;
    uint32_t block_size;
    uint32_t checksum;
    uint8_t parent_uuid[16];
    uint32_t parent_timestamp;
    uint16_t parent_name[256]; /* host order, from UTF-16BE */
    VhdLocator loc[VHD_LOCATORS];
} VhdHeader;

/* Load options. */
enum {
    VHD_LOAD_READONLY = 1 << 0,
    VHD_LOAD_PARENT_RW = 1 << 1, /* commit: the direct parent is written */
    VHD_LOAD_NOSYNC = 1 << 2,    /* tool output files: one sync at the end */
    VHD_LOAD_CHECK = 1 << 3,     /* `vhd check`: also read every bitmap */
};

/* Where defects and warnings go: open keeps the first defect in err;
 * `vhd check` prints every one. */
typedef struct VhdLog {
    FILE *out;   /* every defect and warning, or NULL */
    FILE *warn;  /* warnings when out is NULL (stderr for open), or NULL */
    char *err;   /* first defect as "PATH: what", or NULL */
    size_t errlen;
    int defects, warnings;
} VhdLog;

void vhd_note(VhdLog *log, bool defect, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

typedef struct Vhd Vhd;
struct Vhd {
    BlockDev bd; /* first member: a Vhd is a BlockDev (bd.priv == this) */
    char *path;
    int fd;
    unsigned flags;
    VhdFooter footer;
    VhdHeader header;      /* dynamic and differencing only */
    uint64_t file_size;
    uint64_t footer_at;    /* trailing footer (file size if it is lost) */
    bool footer_recovered; /* trailing footer missing: copy at 0 used */
    uint32_t *bat;         /* host order, header.max_entries entries */
    uint32_t blocks;       /* blocks covering current_size */
    uint32_t spb;          /* sectors per block */
    uint32_t bitmap_bytes; /* padded to 512 */
    uint8_t **bitmaps;     /* lazily read, per block */
    uint8_t *ones;         /* shared all-ones bitmap (never written to) */
    uint32_t dirty[VHD_DIRTY_MAX];    /* blocks whose bitmap has bits not yet on disk */
    uint32_t ndirty, dirty_writes;
    uint64_t meta_end;     /* end of footer copy, header, BAT, locators */
    uint64_t next_alloc;   /* where the next block goes */
    Vhd *parent;
    char *parent_path;
};

/* Formats and parses.  encode fills f->checksum. */
void vhd_footer_encode(VhdFooter *f, uint8_t out[512]);
const char *vhd_footer_decode(const uint8_t in[512], VhdFooter *f);
void vhd_header_encode(VhdHeader *h, uint8_t out[1024]);
const char *vhd_header_decode(const uint8_t in[1024], VhdHeader *h);
uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t skip_at);
void vhd_geometry(uint64_t total_sectors, uint16_t *cyl, uint8_t *heads, uint8_t *spt);
const char *vhd_type_name(uint32_t type);

/* Opens an image and, recursively, its parents, reporting every defect to
 * log.  Returns NULL if any defect was found.  parent_override names the
 * parent explicitly (undo disks) instead of the locators. */
Vhd *vhd_load(const char *path, unsigned flags, const char *parent_override,
              VhdLog *log, int depth);
void vhd_free(Vhd *v);
/* True if sector bit i of block b is present in this image. */
int vhd_bitmap(Vhd *v, uint32_t block, uint8_t **bitmap);
bool vhd_bit(const uint8_t *bitmap, uint32_t i);
/* True if no image of the chain holds data in [lba, lba+count). */
bool vhd_range_unallocated(Vhd *v, uint64_t lba, uint64_t count);
int vhd_sync(Vhd *v);

typedef struct VhdCreate {
    uint32_t type;       /* VHD_TYPE_* */
    uint64_t size;       /* bytes; ignored for differencing (parent's size) */
    uint32_t block_size; /* 0: default */
    const char *parent;  /* differencing */
    const VhdFooter *like; /* copy identity (uuid, timestamp, creator) */
    const VhdHeader *like_header; /* copy parent identity (compact) */
} VhdCreate;
int vhd_create(const char *path, const VhdCreate *c, char *err, size_t errlen);
/* Names the finished file tmp path unless path exists (then -EEXIST). */
int vhd_publish(const char *tmp, const char *path);

static inline uint64_t vhd_block_offset(const Vhd *v, uint32_t block)
{
    return (uint64_t)v->bat[block] * 512;
}

/* Helpers shared within disk/. */
void vhd_dirname(const char *path, char *out, size_t len); /* "." if none */
int vhd_utf8_to_utf16(const char *s, uint16_t *out, size_t max); /* -1: too long */
uint32_t vhd_file_timestamp(int fd); /* mtime, seconds since 2000 UTC */
int vhd_pread(int fd, void *buf, size_t len, uint64_t off);
int vhd_pwrite(int fd, const void *buf, size_t len, uint64_t off);
bool vhd_all_zero(const void *buf, size_t len);
void vhd_uuid_string(const uint8_t uuid[16], char out[37]);
void vhd_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A VHD (and its chain) as a BlockDev; override as in vhd_load. */
BlockDev *vhd_open_blockdev(const char *path, unsigned flags, const char *override,
                            char *err, size_t errlen);
/* A raw file or ISO as a BlockDev (disk.c). */
BlockDev *disk_open_raw(const char *path, unsigned flags, char *err, size_t errlen);

#endif
