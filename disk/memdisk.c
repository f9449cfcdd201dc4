/*
 * disk/memdisk.c -- a block device held in host memory, for images built into
 * the vsx binary (the welcome VM's floppy).  The image is copied, so guest
 * writes (when allowed) change only this run's copy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"

typedef struct MemDisk {
    BlockDev bd;
    uint8_t *data;
} MemDisk;

static int memdisk_read(BlockDev *bd, uint64_t lba, void *buf, uint32_t count)
{
    MemDisk *m = bd->priv;
    if (lba > bd->size / DISK_SECTOR || count > bd->size / DISK_SECTOR - lba)
        return -EIO;
    memcpy(buf, m->data + lba * DISK_SECTOR, (size_t)count * DISK_SECTOR);
    return 0;
}

static int memdisk_write(BlockDev *bd, uint64_t lba, const void *buf, uint32_t count)
{
    MemDisk *m = bd->priv;
    if (bd->readonly)
        return -EROFS;
    if (lba > bd->size / DISK_SECTOR || count > bd->size / DISK_SECTOR - lba)
        return -EIO;
    memcpy(m->data + lba * DISK_SECTOR, buf, (size_t)count * DISK_SECTOR);
    return 0;
}

static int memdisk_flush(BlockDev *bd)
{
    (void)bd;
    return 0;
}

static void memdisk_close(BlockDev *bd)
{
    MemDisk *m = bd->priv;
    free(m->data);
    free(m);
}

BlockDev *disk_open_memory(const void *data, size_t len, uint64_t size, bool readonly)
{
    if (size < len)
        size = len;
    size = (size + DISK_SECTOR - 1) / DISK_SECTOR * DISK_SECTOR;
    MemDisk *m = calloc(1, sizeof *m);
    if (!m || !(m->data = calloc(1, size ? size : DISK_SECTOR))) {
        free(m);
        return NULL;
    }
    memcpy(m->data, data, len);
    m->bd = (BlockDev){
        .size = size, .sector_size = DISK_SECTOR, .readonly = readonly, .format = "memory",
        .read = memdisk_read, .write = memdisk_write, .flush = memdisk_flush,
        .close = memdisk_close, .priv = m,
    };
    return &m->bd;
}
