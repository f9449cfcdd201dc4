/*
 * disk/disk.c -- opening images: format probing, raw disk images and ISO
 * (CD) media.  VHD images are handed to vhd.c.
 *
 * Probing: a file is a VHD when its last 512 bytes hold a footer cookie
 * "conectix", or its first 512 bytes do (a dynamic disk whose trailing footer
 * was lost), or a dynamic header cookie "cxsparse" sits at offset 512 (a
 * damaged dynamic disk, refused rather than shown to the guest as raw).
 * Anything else is raw, or ISO media when opened with DISK_OPEN_CDROM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/vhd_internal.h"


typedef struct RawDisk {
    BlockDev bd;
    int fd;
} RawDisk;

static bool raw_in_range(BlockDev *bd, uint64_t lba, uint32_t count)
{
    uint64_t sectors = bd->size / DISK_SECTOR;
    return lba <= sectors && count <= sectors - lba;
}

static int raw_read(BlockDev *bd, uint64_t lba, void *buf, uint32_t count)
{
    RawDisk *r = bd->priv;
    if (!raw_in_range(bd, lba, count))
        return -EIO;
    return vhd_pread(r->fd, buf, (size_t)count * DISK_SECTOR, lba * DISK_SECTOR);
}

/* True if [off, off+len) of the file is a hole (reads as zeros, holds no
 * blocks): writing zeros there would only allocate space. */
static bool raw_is_hole(int fd, uint64_t off, uint64_t len)
{
    off_t data = lseek(fd, (off_t)off, SEEK_DATA);
    if (data < 0)
        return errno == ENXIO; /* no data after off (EINVAL etc.: unknown) */
    return (uint64_t)data >= off + len;
}

static int raw_write(BlockDev *bd, uint64_t lba, const void *buf, uint32_t count)
{
    RawDisk *r = bd->priv;
    size_t len = (size_t)count * DISK_SECTOR;
    if (bd->readonly)
        return -EROFS;
    if (!raw_in_range(bd, lba, count))
        return -EIO;
    if (vhd_all_zero(buf, len) && raw_is_hole(r->fd, lba * DISK_SECTOR, len))
        return 0; /* sparse images stay sparse */
    return vhd_pwrite(r->fd, buf, len, lba * DISK_SECTOR);
}

static int raw_flush(BlockDev *bd)
{
    RawDisk *r = bd->priv;
    if (bd->readonly)
        return 0;
    return fdatasync(r->fd) ? -errno : 0;
}

static void raw_close(BlockDev *bd)
{
    RawDisk *r = bd->priv;
    if (!bd->readonly)
        fdatasync(r->fd);
    close(r->fd);
    free(r);
}

/* Opens path read-write unless asked or unable (then read-only), with an
 * advisory lock so two writers never share an image. */
static int disk_open_fd(const char *path, bool *ro, char *err, size_t errlen)
{
    int fd = open(path, (*ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0 && !*ro && (errno == EACCES || errno == EROFS || errno == EPERM)) {
        *ro = true;
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        vhd_set_err(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* Only a held lock refuses; filesystems without locks go unlocked. */
    if (flock(fd, (*ro ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        vhd_set_err(err, errlen, "%s: image is in use by another process", path);
        close(fd);
        return -1;
    }
    return fd;
}

BlockDev *disk_open_raw(const char *path, unsigned flags, char *err, size_t errlen)
{
    bool cd = flags & DISK_OPEN_CDROM;
    bool ro = cd || (flags & DISK_OPEN_READONLY);
    int fd = disk_open_fd(path, &ro, err, errlen);
    if (fd < 0)
        return NULL;
    struct stat st;
    RawDisk *r = NULL;
    if (fstat(fd, &st) != 0 || !(r = calloc(1, sizeof *r))) {
        vhd_set_err(err, errlen, "%s: %s", path, strerror(errno ? errno : ENOMEM));
        close(fd);
        return NULL;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        size = end > 0 ? (uint64_t)end : 0;
    }
    if (!cd && size % DISK_SECTOR) {
        vhd_set_err(err, errlen, "%s: size %llu is not a multiple of 512", path, (unsigned long long)size);
        close(fd);
        free(r);
        return NULL;
    }
    r->fd = fd;
    /* CD media: 2048-byte sectors (ISO 9660); a trailing partial sector is
     * not addressable by the drive. */
    r->bd.size = cd ? size / 2048 * 2048 : size;
    r->bd.sector_size = cd ? 2048 : DISK_SECTOR;
    r->bd.readonly = ro;
    r->bd.format = cd ? "iso" : "raw";
    r->bd.read = raw_read;
    r->bd.write = raw_write;
    r->bd.flush = raw_flush;
    r->bd.close = raw_close;
    r->bd.priv = r;
    return &r->bd;
}

/* Cookies at the places a VHD keeps them (see the probing note above). */
static bool disk_looks_vhd(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    uint8_t b[1024], t[8];
    bool vhd = false;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 512) {
        uint64_t tail = st.st_size % 512 == 511 ? 511 : 512; /* pre-2004 footers */
        if (vhd_pread(fd, t, 8, (uint64_t)st.st_size - tail) == 0 && memcmp(t, "conectix", 8) == 0)
            vhd = true;
        if (!vhd && st.st_size >= 1024 && vhd_pread(fd, b, 1024, 0) == 0)
            vhd = memcmp(b, "conectix", 8) == 0 || memcmp(b + 512, "cxsparse", 8) == 0;
    }
    close(fd);
    return vhd;
}

BlockDev *disk_open(const char *path, unsigned flags, char *err, size_t errlen)
{
    if (!(flags & DISK_OPEN_CDROM) && disk_looks_vhd(path))
        return vhd_open_blockdev(path, flags, NULL, err, errlen);
    return disk_open_raw(path, flags, err, errlen);
}
