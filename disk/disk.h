/*
 * disk/disk.h -- block devices (raw, ISO, VHD fixed/dynamic/differencing) and
 * the offline VHD tools.  Uses libc only.  Controllers (IDE, FDC) see only
 * BlockDev.
 */
#ifndef VSX_DISK_DISK_H
#define VSX_DISK_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_SECTOR 512u

typedef struct BlockDev BlockDev;
struct BlockDev {
    uint64_t size;        /* bytes, a multiple of 512 */
    uint32_t sector_size; /* 512 for disks and floppies, 2048 for ISO/CD media */
    bool readonly;
    const char *format;   /* "raw", "iso", "vhd-fixed", "vhd-dynamic", "vhd-differencing" */
    /* Transfers count 512-byte sectors starting at lba (512-byte units),
     * whatever sector_size is.  Return 0 or a negative errno. */
    int (*read)(BlockDev *bd, uint64_t lba, void *buf, uint32_t count);
    int (*write)(BlockDev *bd, uint64_t lba, const void *buf, uint32_t count);
    int (*flush)(BlockDev *bd);
    void (*close)(BlockDev *bd);
    void *priv;
};

enum {
    DISK_OPEN_READONLY = 1 << 0,
    DISK_OPEN_CDROM = 1 << 1, /* ISO media: sector_size 2048, read-only */
};

/* Opens an image, probing the format (VHD by its footer, else raw/ISO).
 * On failure returns NULL and writes "PATH: what is wrong" into err. */
BlockDev *disk_open(const char *path, unsigned flags, char *err, size_t errlen);
/* A block device over a private copy of `data` (len bytes), `size` bytes
 * long (zero-filled past len).  Returns NULL when out of memory. */
BlockDev *disk_open_memory(const void *data, size_t len, uint64_t size, bool readonly);

static inline void disk_close(BlockDev *bd)
{
    if (bd)
        bd->close(bd);
}

/* Undo disk: opens (creating it if absent) a differencing VHD at undo_path
 * whose parent is base_path, so every write lands in undo_path.  The base
 * must be a VHD (a raw base is refused with a message saying to convert it);
 * an existing undo_path is reused only if its parent ID matches the base.
 * The base is opened read-only.  NULL plus "PATH: what" in err on failure. */
BlockDev *disk_open_undo(const char *base_path, const char *undo_path, unsigned flags,
                         char *err, size_t errlen);

/* Merges every sector stored in the differencing VHD `child` into its parent
 * (which must be writable), then flushes the parent.  The child is left as
 * is (it still reads the same data); the caller removes it if configured.
 * Returns 0, or -1 with "PATH: what" in err. */
int vhd_commit(const char *child, char *err, size_t errlen);

/* `vsx vhd ...` (argv[0] is the subcommand, e.g. "create"); returns an exit
 * status and prints to stdout/stderr. */
int vhd_tool_main(int argc, char **argv);

#endif
