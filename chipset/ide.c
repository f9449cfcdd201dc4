/*
 * chipset/ide.c -- the PIIX3 IDE function (00:01.1, 8086:7010): two legacy
 * ATA channels (0x1F0-0x1F7/0x3F6 on IRQ 14, 0x170-0x177/0x376 on IRQ 15),
 * each with a master and a slave, plus the bus-master DMA block in BAR4.
 *
 * References: T13 ATA/ATAPI-6 (register file, protocols, command set,
 * IDENTIFY words, signatures); SFF-8020i / MMC-3 for the ATAPI CD-ROM (see
 * ide_atapi.c); Intel PIIX3 datasheet §2.5 (BMICX/BMISX/BMIDTPX) and
 * "Bus Master IDE Operation" (PRD format, interrupt/active bit semantics).
 *
 * Model: commands complete synchronously when issued.  Every data transfer,
 * PIO or DMA, runs through one per-drive buffer (`buf[pos..end)`): the host
 * (PIO) or the bus master (DMA) drains or fills it, and when it is exhausted
 * the drive's current transfer kind decides what comes next (next block,
 * next ATAPI chunk, completion).  Transfer kinds are an enum, not function
 * pointers, so the whole drive state can be saved.
 */
#include <stdlib.h>
#include <string.h>

#include "chipset/devices.h"
#include "chipset/ide_internal.h"
#include "disk/disk.h"

static const uint16_t cmd_base[IDE_CHANNELS] = {0x1F0, 0x170};
static const uint16_t ctl_base[IDE_CHANNELS] = {0x3F6, 0x376};

/* ------------------------------------------------------------ interrupts */

/* INTRQ is driven by the selected device and gated by nIEN (ATA-6 §5.2.9). */
static void channel_update_irq(IdeChannel *ch)
{
    IdeDrive *d = &ch->drive[ch->cur];
    int level = d->s.intrq && !(ch->devctl & IDE_CTL_NIEN);
    irq_set(&ch->irq, level);
}

void ide_raise_irq(IdeDrive *d)
{
    IdeChannel *ch = d->ch;
    d->s.intrq = 1;
    /* BMISX bit 2 latches the IDE interrupt line regardless of nIEN
     * (PIIX3 datasheet, "Bus Master IDE Status Register"). */
    ch->bm_status |= IDE_BM_ST_INTR;
    channel_update_irq(ch);
}

static void drive_clear_irq(IdeDrive *d)
{
    d->s.intrq = 0;
    channel_update_irq(d->ch);
}

/* ------------------------------------------------------------ addressing */

/* The 48-bit address as written: the current register bytes form bits 0-23
 * and the previous ones (the "HOB" history) bits 24-47 (ATA-6 §6.20). */
static uint64_t taskfile_lba48(const IdeDriveState *s)
{
    return (uint64_t)s->sector | (uint64_t)s->lcyl << 8 | (uint64_t)s->hcyl << 16 |
           (uint64_t)s->hob_sector << 24 | (uint64_t)s->hob_lcyl << 32 | (uint64_t)s->hob_hcyl << 40;
}

/* Returns the starting sector of the command, or UINT64_MAX if a CHS
 * address names no sector of the current translation. */
static uint64_t taskfile_address(const IdeDriveState *s, bool lba48)
{
    if (lba48)
        return taskfile_lba48(s);
    if (s->select & IDE_SEL_LBA)
        return (uint64_t)(s->select & 0x0F) << 24 | (uint64_t)s->hcyl << 16 | (uint64_t)s->lcyl << 8 | s->sector;
    uint32_t cyl = (uint32_t)s->hcyl << 8 | s->lcyl;
    uint32_t head = s->select & 0x0F;
    if (s->sector == 0 || s->sector > s->cur_spt || head >= s->cur_heads || cyl >= s->cur_cyls)
        return UINT64_MAX;
    return ((uint64_t)cyl * s->cur_heads + head) * s->cur_spt + (s->sector - 1);
}

/* Writes an address back into the register file, in the addressing mode the
 * command used: ATA-6 requires the failing sector on errors and it is
 * convenient for hosts to see the last sector on success. */
static void taskfile_set_address(IdeDriveState *s, uint64_t lba, bool lba48)
{
    if (lba48) {
        s->sector = (uint8_t)lba;
        s->lcyl = (uint8_t)(lba >> 8);
        s->hcyl = (uint8_t)(lba >> 16);
        s->hob_sector = (uint8_t)(lba >> 24);
        s->hob_lcyl = (uint8_t)(lba >> 32);
        s->hob_hcyl = (uint8_t)(lba >> 40);
    } else if (s->select & IDE_SEL_LBA) {
        s->sector = (uint8_t)lba;
        s->lcyl = (uint8_t)(lba >> 8);
        s->hcyl = (uint8_t)(lba >> 16);
        s->select = (uint8_t)((s->select & 0xF0) | ((lba >> 24) & 0x0F));
    } else if (s->cur_heads && s->cur_spt) {
        uint64_t per_cyl = (uint64_t)s->cur_heads * s->cur_spt;
        uint64_t cyl = lba / per_cyl, rest = lba % per_cyl;
        s->hcyl = (uint8_t)(cyl >> 8);
        s->lcyl = (uint8_t)cyl;
        s->select = (uint8_t)((s->select & 0xF0) | (rest / s->cur_spt));
        s->sector = (uint8_t)(rest % s->cur_spt + 1);
    }
}

static uint32_t taskfile_count(const IdeDriveState *s, bool lba48)
{
    if (lba48) {
        uint32_t n = (uint32_t)s->hob_nsector << 8 | s->nsector;
        return n ? n : 65536;
    }
    return s->nsector ? s->nsector : 256;
}

/* ------------------------------------------------------------ completion */

void ide_complete(IdeDrive *d, bool irq)
{
    d->s.status = IDE_ST_DRDY | IDE_ST_DSC;
    d->s.error = 0;
    d->s.kind = IDE_XFER_NONE;
    d->s.pos = d->s.end = 0;
    d->s.dma_pending = 0;
    if (irq)
        ide_raise_irq(d);
}

/* Command failed: ERR in status, `error` bits in the Error register, the
 * interrupt that ends every non-data or failed command (ATA-6 §9). */
void ide_abort_with(IdeDrive *d, uint8_t error)
{
    d->s.status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_ERR;
    if (d->s.atapi)
        d->s.status = IDE_ST_DRDY | IDE_ST_ERR;
    d->s.error = error;
    d->s.kind = IDE_XFER_NONE;
    d->s.pos = d->s.end = 0;
    d->s.dma_pending = 0;
    ide_raise_irq(d);
}

static void ide_abort(IdeDrive *d) { ide_abort_with(d, IDE_ERR_ABRT); }

/* Starts a transfer of buf[0..len): DRQ set; PIO hosts move the data through
 * the data port, DMA transfers wait for the bus master (callers outside the
 * bus-master loop then call ide_bm_run, which may run it at once). */
void ide_start_xfer(IdeDrive *d, IdeXferKind kind, uint32_t len, bool to_host, bool dma)
{
    d->s.kind = (uint8_t)kind;
    d->s.pos = 0;
    d->s.end = len;
    d->s.to_host = to_host;
    d->s.dma_pending = dma;
    d->s.status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
}

/* ------------------------------------------------------------ signatures */

/* ATA-6 §9.12: after a reset or EXECUTE DEVICE DIAGNOSTIC each device leaves
 * its signature in the register file; packet devices 14h/EBh in the
 * cylinder registers, which is how hosts tell them apart. */
static void drive_set_signature(IdeDrive *d)
{
    IdeDriveState *s = &d->s;
    s->nsector = s->hob_nsector = 1;
    s->sector = s->hob_sector = 1;
    s->lcyl = s->hob_lcyl = s->atapi ? 0x14 : 0x00;
    s->hcyl = s->hob_hcyl = s->atapi ? 0xEB : 0x00;
    s->error = 0x01; /* diagnostic code: device passed */
    s->status = s->atapi ? 0 : (IDE_ST_DRDY | IDE_ST_DSC);
    s->kind = IDE_XFER_NONE;
    s->pos = s->end = 0;
    s->dma_pending = 0;
}

/* ------------------------------------------------------------ disk data */

bool ide_disk_read(IdeDrive *d, uint64_t lba, uint8_t *buf, uint32_t count)
{
    return d->bd && d->bd->read(d->bd, lba, buf, count) == 0;
}

/* ------------------------------------------------------------ ATA reads/writes */

/* Sectors per data block: the whole remaining DMA chunk, the multiple
 * count for READ/WRITE MULTIPLE, else one sector per DRQ (ATA-6 §9.x). */
static uint32_t ata_block_sectors(const IdeDriveState *s)
{
    uint32_t n = s->dma_pending ? IDE_DMA_CHUNK : (s->multiple_cmd ? s->mult_sectors : 1);
    return s->xfer_left < n ? s->xfer_left : n;
}

/* Loads the next block of a read into the buffer, or fails with UNC. */
static void ata_read_block(IdeDrive *d)
{
    IdeDriveState *s = &d->s;
    uint32_t n = ata_block_sectors(s);
    bool dma = s->dma_pending;
    if (!ide_disk_read(d, s->xfer_lba, d->buf, n)) {
        taskfile_set_address(s, s->xfer_lba, s->lba48);
        ide_abort_with(d, IDE_ERR_UNC);
        return;
    }
    s->cur_block = n;
    taskfile_set_address(s, s->xfer_lba + n - 1, s->lba48);
    s->xfer_lba += n;
    s->xfer_left -= n;
    if (dma) {
        s->kind = IDE_XFER_ATA_READ;
        s->pos = 0;
        s->end = n * DISK_SECTOR;
        return; /* the bus master loop drains it */
    }
    ide_start_xfer(d, IDE_XFER_ATA_READ, n * DISK_SECTOR, true, false);
    ide_raise_irq(d); /* PIO data-in: one interrupt per DRQ block */
}

static void ata_read_done(IdeDrive *d)
{
    if (d->s.xfer_left == 0) {
        ide_complete(d, d->s.dma_pending); /* PIO-in ends without an interrupt */
        return;
    }
    ata_read_block(d);
}

/* A write block is ready for the host (DRQ); PIO gets an interrupt for every
 * block after the first (ATA-6 PIO data-out protocol). */
static void ata_write_request(IdeDrive *d, bool irq)
{
    IdeDriveState *s = &d->s;
    uint32_t n = ata_block_sectors(s);
    s->cur_block = n;
    if (s->dma_pending) {
        s->kind = IDE_XFER_ATA_WRITE;
        s->pos = 0;
        s->end = n * DISK_SECTOR;
        s->to_host = false;
        return;
    }
    ide_start_xfer(d, IDE_XFER_ATA_WRITE, n * DISK_SECTOR, false, false);
    if (irq)
        ide_raise_irq(d);
}

static void ata_write_done(IdeDrive *d)
{
    IdeDriveState *s = &d->s;
    uint32_t n = s->cur_block;
    if (d->bd->write(d->bd, s->xfer_lba, d->buf, n) != 0) {
        taskfile_set_address(s, s->xfer_lba, s->lba48);
        ide_abort_with(d, IDE_ERR_UNC);
        return;
    }
    taskfile_set_address(s, s->xfer_lba + n - 1, s->lba48);
    s->xfer_lba += n;
    s->xfer_left -= n;
    if (s->xfer_left == 0) {
        ide_complete(d, true);
        return;
    }
    ata_write_request(d, true);
}

/* Validates the address range; on failure the command ends with IDNF
 * (ATA-6: "the requested address is outside the user-accessible range"). */
static bool ata_setup_rw(IdeDrive *d, bool lba48)
{
    IdeDriveState *s = &d->s;
    uint64_t lba = taskfile_address(s, lba48);
    uint32_t count = taskfile_count(s, lba48);
    s->lba48 = lba48;
    if (lba == UINT64_MAX || lba >= s->nsectors || count > s->nsectors - lba) {
        ide_abort_with(d, IDE_ERR_IDNF | IDE_ERR_ABRT);
        return false;
    }
    s->xfer_lba = lba;
    s->xfer_left = count;
    return true;
}

typedef enum AtaRwFlags {
    RW_WRITE = 1 << 0,
    RW_LBA48 = 1 << 1,
    RW_MULTIPLE = 1 << 2,
    RW_DMA = 1 << 3,
} AtaRwFlags;

static void ata_cmd_rw(IdeDrive *d, unsigned flags)
{
    IdeDriveState *s = &d->s;
    if ((flags & RW_MULTIPLE) && s->mult_sectors == 0) {
        ide_abort(d); /* ATA-6: READ/WRITE MULTIPLE before SET MULTIPLE MODE */
        return;
    }
    if ((flags & RW_WRITE) && d->bd->readonly) {
        ide_abort(d);
        return;
    }
    if (!ata_setup_rw(d, (flags & RW_LBA48) != 0))
        return;
    s->multiple_cmd = (flags & RW_MULTIPLE) != 0;
    if (flags & RW_DMA) {
        s->dma_pending = 1;
        s->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
        s->to_host = !(flags & RW_WRITE);
        if (flags & RW_WRITE)
            ata_write_request(d, false);
        else
            ata_read_block(d);
        if (s->dma_pending)
            ide_bm_run(d->ch);
        return;
    }
    if (flags & RW_WRITE)
        ata_write_request(d, false);
    else
        ata_read_block(d);
}

/* ------------------------------------------------------------ IDENTIFY */

/* ATA strings: two characters per word, the first in the high byte, padded
 * with spaces (ATA-6 §3.2.9). */
void ide_put_string(uint16_t *words, int first, int nwords, const char *text)
{
    size_t len = strlen(text);
    for (int i = 0; i < nwords * 2; i++) {
        uint8_t c = (size_t)i < len ? (uint8_t)text[i] : ' ';
        uint16_t *w = &words[first + i / 2];
        *w = (i & 1) ? (uint16_t)((*w & 0xFF00) | c) : (uint16_t)((*w & 0x00FF) | c << 8);
    }
}

void ide_words_to_buf(uint8_t *buf, const uint16_t *words)
{
    for (int i = 0; i < 256; i++) {
        buf[2 * i] = (uint8_t)words[i];
        buf[2 * i + 1] = (uint8_t)(words[i] >> 8);
    }
}

/* Words 63 and 88: supported modes in the low byte, the selected one as a
 * bit in the high byte (ATA-6 §8.15.37, §8.15.48). */
uint16_t ide_mode_word(uint8_t supported, uint8_t xfer_mode, uint8_t class_bits)
{
    uint16_t w = supported;
    if ((xfer_mode & 0xF8) == class_bits)
        w |= (uint16_t)(0x100u << (xfer_mode & 7));
    return w;
}

static void ata_identify_words(IdeDrive *d, uint16_t *w)
{
    const IdeDriveState *s = &d->s;
    uint64_t n = s->nsectors;
    uint64_t lba28 = n > 0x0FFFFFFF ? 0x0FFFFFFF : n;
    uint32_t cur_cap = (uint32_t)s->cur_cyls * s->cur_heads * s->cur_spt;
    char serial[24];
    snprintf(serial, sizeof serial, "VSX%04d%08X", d->index, (unsigned)(n & 0xFFFFFFFF));

    w[0] = 0x0040; /* fixed device */
    w[1] = (uint16_t)s->def_cyls;
    w[3] = IDE_DEFAULT_HEADS;
    w[6] = IDE_DEFAULT_SPT;
    ide_put_string(w, 10, 10, serial);
    ide_put_string(w, 23, 4, "0.1");
    ide_put_string(w, 27, 20, "VSX HARDDISK");
    w[47] = 0x8000 | IDE_MAX_MULTIPLE;
    w[49] = 0x0B00; /* IORDY supported, LBA, DMA */
    w[50] = 0x4000;
    w[51] = 0x0200; /* PIO mode 2 timing */
    w[53] = 0x0007; /* words 54-58, 64-70 and 88 valid */
    w[54] = (uint16_t)s->cur_cyls;
    w[55] = (uint16_t)s->cur_heads;
    w[56] = (uint16_t)s->cur_spt;
    w[57] = (uint16_t)cur_cap;
    w[58] = (uint16_t)(cur_cap >> 16);
    w[59] = s->mult_sectors ? (uint16_t)(0x100 | s->mult_sectors) : 0;
    w[60] = (uint16_t)lba28;
    w[61] = (uint16_t)(lba28 >> 16);
    w[63] = ide_mode_word(0x07, s->xfer_mode, IDE_MODE_MWDMA);
    w[64] = 0x0003; /* PIO modes 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x007E; /* ATA-1 .. ATA-6 */
    w[82] = 0x0028; /* write cache, power management */
    w[83] = 0x7400; /* FLUSH CACHE EXT, FLUSH CACHE, 48-bit; bit 14 "valid" */
    w[84] = 0x4000;
    w[85] = (uint16_t)(0x0008 | (s->wcache ? 0x0020 : 0));
    w[86] = 0x3400;
    w[87] = 0x4000;
    w[88] = ide_mode_word(0x3F, s->xfer_mode, IDE_MODE_UDMA);
    w[93] = d->index & 1 ? 0x6B00 : 0x600B; /* 80-wire cable, jumper-selected, diagnostics passed */
    for (int i = 0; i < 4; i++)
        w[100 + i] = (uint16_t)(n >> (16 * i));
}

static void ata_cmd_identify(IdeDrive *d)
{
    uint16_t w[256] = {0};
    ata_identify_words(d, w);
    ide_words_to_buf(d->buf, w);
    ide_start_xfer(d, IDE_XFER_PIO_IN, 512, true, false);
    ide_raise_irq(d);
}

/* ------------------------------------------------------------ other ATA commands */

static void ata_cmd_set_multiple(IdeDrive *d)
{
    uint8_t n = d->s.nsector;
    /* ATA-6: a power of two up to word 47's maximum; 0 disables. */
    if (n > IDE_MAX_MULTIPLE || (n & (n - 1))) {
        ide_abort(d);
        return;
    }
    d->s.mult_sectors = n;
    ide_complete(d, true);
}

/* INITIALIZE DEVICE PARAMETERS: a new CHS translation (ATA-6 §8.16). */
static void ata_cmd_init_params(IdeDrive *d)
{
    IdeDriveState *s = &d->s;
    uint32_t heads = (s->select & 0x0F) + 1u, spt = s->nsector;
    if (spt == 0) {
        ide_abort(d);
        return;
    }
    uint64_t cyls = s->nsectors / (heads * spt);
    s->cur_heads = (uint16_t)heads;
    s->cur_spt = (uint16_t)spt;
    s->cur_cyls = (uint16_t)(cyls > 65535 ? 65535 : cyls);
    ide_complete(d, true);
}

static void ata_cmd_verify(IdeDrive *d, bool lba48)
{
    if (!ata_setup_rw(d, lba48))
        return;
    IdeDriveState *s = &d->s;
    taskfile_set_address(s, s->xfer_lba + s->xfer_left - 1, lba48);
    ide_complete(d, true);
}

static void ata_cmd_seek(IdeDrive *d)
{
    uint64_t lba = taskfile_address(&d->s, false);
    if (lba == UINT64_MAX || lba >= d->s.nsectors) {
        ide_abort_with(d, IDE_ERR_IDNF);
        return;
    }
    ide_complete(d, true);
}

static void ata_cmd_flush(IdeDrive *d)
{
    if (d->bd && d->bd->flush && d->bd->flush(d->bd) != 0) {
        ide_abort(d);
        return;
    }
    ide_complete(d, true);
}

/* SET FEATURES subcommands (ATA-6 §8.37): transfer mode, write cache and
 * read look-ahead/reverting defaults, which are accepted as no-ops. */
static void ide_cmd_set_features(IdeDrive *d)
{
    IdeDriveState *s = &d->s;
    uint8_t mode = s->nsector;
    switch (s->feature) {
    case 0x03: {
        uint8_t cls = mode & 0xF8, sub = mode & 7;
        bool ok = (mode <= 1) || (cls == IDE_MODE_PIO && sub <= 4) ||
                  (cls == IDE_MODE_MWDMA && sub <= 2) || (cls == IDE_MODE_UDMA && sub <= 5);
        if (!ok) {
            ide_abort(d);
            return;
        }
        s->xfer_mode = mode;
        break;
    }
    case 0x02: s->wcache = 1; break;
    case 0x82: s->wcache = 0; break;
    case 0x55: case 0xAA: case 0x66: case 0xCC: break;
    default:
        ide_abort(d);
        return;
    }
    ide_complete(d, true);
}

/* CHECK POWER MODE: FFh in the count register means active/idle. */
static void ide_cmd_check_power(IdeDrive *d)
{
    ide_complete(d, true);
    d->s.nsector = 0xFF;
}

static void ide_cmd_nodata_ok(IdeDrive *d) { ide_complete(d, true); }

static void ide_cmd_abort(IdeDrive *d) { ide_abort(d); }

/* ------------------------------------------------------------ command table */

typedef struct IdeCommand {
    void (*fn)(IdeDrive *d, unsigned arg);
    unsigned arg;
    uint8_t who; /* IDE_FOR_ATA, IDE_FOR_ATAPI or both */
} IdeCommand;

enum { FOR_ATA = 1, FOR_ATAPI = 2, FOR_ALL = 3 };

static void run_rw(IdeDrive *d, unsigned f) { ata_cmd_rw(d, f); }
static void run_verify(IdeDrive *d, unsigned lba48) { ata_cmd_verify(d, lba48 != 0); }
static void run_plain(IdeDrive *d, unsigned i);

typedef void (*PlainFn)(IdeDrive *d);
static const PlainFn plain_fns[] = {
    ata_cmd_identify, ata_cmd_set_multiple, ata_cmd_init_params, ata_cmd_seek, ata_cmd_flush,
    ide_cmd_set_features, ide_cmd_check_power, ide_cmd_nodata_ok, ide_cmd_abort,
    ide_atapi_cmd_identify, ide_atapi_cmd_packet, ide_atapi_cmd_device_reset,
};
enum {
    P_IDENTIFY, P_SETMULT, P_INITPARAMS, P_SEEK, P_FLUSH, P_SETFEAT, P_CHKPOWER, P_OK, P_ABORT,
    P_PIDENTIFY, P_PACKET, P_DEVRESET,
};

static void run_plain(IdeDrive *d, unsigned i) { plain_fns[i](d); }

/* ATA-6 command codes (Table 29 and §8).  Unlisted codes abort. */
static const IdeCommand ide_commands[256] = {
    [0x08] = {run_plain, P_DEVRESET, FOR_ATAPI},
    [0x10] = {run_plain, P_OK, FOR_ATA}, /* RECALIBRATE (0x10-0x1F) */
    [0x20] = {run_rw, 0, FOR_ATA},
    [0x21] = {run_rw, 0, FOR_ATA},
    [0x24] = {run_rw, RW_LBA48, FOR_ATA},
    [0x25] = {run_rw, RW_LBA48 | RW_DMA, FOR_ATA},
    [0x29] = {run_rw, RW_LBA48 | RW_MULTIPLE, FOR_ATA},
    [0x30] = {run_rw, RW_WRITE, FOR_ATA},
    [0x31] = {run_rw, RW_WRITE, FOR_ATA},
    [0x34] = {run_rw, RW_WRITE | RW_LBA48, FOR_ATA},
    [0x35] = {run_rw, RW_WRITE | RW_LBA48 | RW_DMA, FOR_ATA},
    [0x39] = {run_rw, RW_WRITE | RW_LBA48 | RW_MULTIPLE, FOR_ATA},
    [0x40] = {run_verify, 0, FOR_ATA},
    [0x41] = {run_verify, 0, FOR_ATA},
    [0x42] = {run_verify, 1, FOR_ATA},
    [0x70] = {run_plain, P_SEEK, FOR_ATA},
    [0x91] = {run_plain, P_INITPARAMS, FOR_ATA},
    [0xA0] = {run_plain, P_PACKET, FOR_ATAPI},
    [0xA1] = {run_plain, P_PIDENTIFY, FOR_ATAPI},
    [0xC4] = {run_rw, RW_MULTIPLE, FOR_ATA},
    [0xC5] = {run_rw, RW_WRITE | RW_MULTIPLE, FOR_ATA},
    [0xC6] = {run_plain, P_SETMULT, FOR_ATA},
    [0xC8] = {run_rw, RW_DMA, FOR_ATA},
    [0xC9] = {run_rw, RW_DMA, FOR_ATA},
    [0xCA] = {run_rw, RW_WRITE | RW_DMA, FOR_ATA},
    [0xCB] = {run_rw, RW_WRITE | RW_DMA, FOR_ATA},
    [0xE0] = {run_plain, P_OK, FOR_ALL}, /* STANDBY IMMEDIATE */
    [0xE1] = {run_plain, P_OK, FOR_ALL}, /* IDLE IMMEDIATE */
    [0xE2] = {run_plain, P_OK, FOR_ATA}, /* STANDBY */
    [0xE3] = {run_plain, P_OK, FOR_ATA}, /* IDLE */
    [0xE5] = {run_plain, P_CHKPOWER, FOR_ALL},
    [0xE7] = {run_plain, P_FLUSH, FOR_ATA},
    [0xEA] = {run_plain, P_FLUSH, FOR_ATA},
    [0xEC] = {run_plain, P_IDENTIFY, FOR_ATA},
    [0xEF] = {run_plain, P_SETFEAT, FOR_ALL},
};

/* EXECUTE DEVICE DIAGNOSTIC runs in both devices whatever DEV says; device 0
 * answers and interrupts (ATA-6 §8.11, §9.10). */
static void channel_diagnostic(IdeChannel *ch)
{
    for (int u = 0; u < 2; u++) {
        IdeDrive *d = &ch->drive[u];
        if (!d->s.present)
            continue;
        drive_set_signature(d);
        d->s.select = 0xA0;
    }
    ch->cur = 0;
    IdeDrive *d0 = &ch->drive[0];
    if (d0->s.present)
        ide_raise_irq(d0);
    else
        channel_update_irq(ch);
}

static void drive_command(IdeChannel *ch, uint8_t cmd)
{
    IdeDrive *d = &ch->drive[ch->cur];
    if (cmd == 0x90) {
        channel_diagnostic(ch);
        return;
    }
    if (!d->s.present || (ch->devctl & IDE_CTL_SRST))
        return;
    if ((d->s.status & IDE_ST_BSY) && cmd != 0x08)
        return; /* ATA-6: writes to the command register while BSY are ignored */
    drive_clear_irq(d);
    d->s.kind = IDE_XFER_NONE;
    d->s.dma_pending = 0;
    const IdeCommand *c = &ide_commands[cmd];
    if (cmd >= 0x10 && cmd <= 0x1F)
        c = &ide_commands[0x10];
    if (!c->fn || !(c->who & (d->s.atapi ? FOR_ATAPI : FOR_ATA))) {
        if (d->s.atapi && cmd == 0xEC) {
            drive_set_signature(d); /* ATA-6 §8.15: packet devices abort with the signature */
            ide_abort(d);
            return;
        }
        ide_abort(d);
        return;
    }
    c->fn(d, c->arg);
}

/* ------------------------------------------------------------ transfers */

/* The buffer was drained (to_host) or filled (from host): what next. */
void ide_xfer_done(IdeDrive *d)
{
    switch ((IdeXferKind)d->s.kind) {
    case IDE_XFER_ATA_READ: ata_read_done(d); break;
    case IDE_XFER_ATA_WRITE: ata_write_done(d); break;
    case IDE_XFER_PIO_IN: ide_complete(d, false); break;
    case IDE_XFER_ATAPI_PACKET: ide_atapi_packet_received(d); break;
    case IDE_XFER_ATAPI_IN: ide_atapi_in_done(d); break;
    case IDE_XFER_ATAPI_OUT: ide_atapi_out_done(d); break;
    default: ide_complete(d, false); break;
    }
}

static uint32_t data_read(IdeChannel *ch, unsigned width)
{
    IdeDrive *d = &ch->drive[ch->cur];
    IdeDriveState *s = &d->s;
    if (!s->present || !s->to_host || s->dma_pending || s->pos >= s->end || !(s->status & IDE_ST_DRQ))
        return 0xFFFFFFFFu >> (32 - 8 * width);
    uint32_t v = 0;
    for (unsigned i = 0; i < width && s->pos < s->end; i++)
        v |= (uint32_t)d->buf[s->pos++] << (8 * i);
    if (s->pos >= s->end)
        ide_xfer_done(d);
    return v;
}

static void data_write(IdeChannel *ch, uint32_t value, unsigned width)
{
    IdeDrive *d = &ch->drive[ch->cur];
    IdeDriveState *s = &d->s;
    if (!s->present || s->to_host || s->dma_pending || s->pos >= s->end || !(s->status & IDE_ST_DRQ))
        return;
    for (unsigned i = 0; i < width && s->pos < s->end; i++)
        d->buf[s->pos++] = (uint8_t)(value >> (8 * i));
    if (s->pos >= s->end)
        ide_xfer_done(d);
}

/* ------------------------------------------------------------ register file */

/* Registers 1-5 as read: the previous ("HOB") bytes when the HOB bit of the
 * device control register is set (ATA-6 §7.9). */
static uint8_t taskfile_read(const IdeDriveState *s, uint32_t reg, bool hob)
{
    switch (reg) {
    case 1: return hob ? s->hob_feature : s->error;
    case 2: return hob ? s->hob_nsector : s->nsector;
    case 3: return hob ? s->hob_sector : s->sector;
    case 4: return hob ? s->hob_lcyl : s->lcyl;
    case 5: return hob ? s->hob_hcyl : s->hcyl;
    case 6: return s->select;
    default: return s->status;
    }
}

static uint8_t drive_status(const IdeChannel *ch, const IdeDrive *d)
{
    if (ch->devctl & IDE_CTL_SRST)
        return IDE_ST_BSY;
    return d->s.status;
}

static uint32_t cmd_read(void *opaque, uint32_t off, unsigned width)
{
    IdeChannel *ch = opaque;
    if (off == 0)
        return data_read(ch, width);
    if (width > 1) { /* only the data port is 16/32 bits wide */
        uint32_t v = 0;
        for (unsigned i = 0; i < width; i++)
            v |= cmd_read(ch, (off + i) & 7, 1) << (8 * i);
        return v;
    }
    IdeDrive *d = &ch->drive[ch->cur];
    /* An absent device does not drive the bus; with a device 0 present the
     * host sees 00h (the bus pull-down), which probes read as "no device". */
    if (!d->s.present)
        return 0;
    if (off == 7) {
        uint8_t st = drive_status(ch, d);
        drive_clear_irq(d); /* reading Status acknowledges INTRQ (ATA-6 §7.15) */
        return st;
    }
    if (off == 6)
        return d->s.select;
    return taskfile_read(&d->s, off, (ch->devctl & IDE_CTL_HOB) != 0);
}

/* Writes land in both devices' register files; the previous byte moves to
 * the HOB history for 48-bit commands.  Any write clears HOB (ATA-6 §7.9). */
static void taskfile_write(IdeDriveState *s, uint32_t reg, uint8_t v)
{
    uint8_t *cur[6] = {NULL, &s->feature, &s->nsector, &s->sector, &s->lcyl, &s->hcyl};
    uint8_t *hob[6] = {NULL, &s->hob_feature, &s->hob_nsector, &s->hob_sector, &s->hob_lcyl, &s->hob_hcyl};
    if (reg >= 1 && reg <= 5) {
        *hob[reg] = *cur[reg];
        *cur[reg] = v;
    } else if (reg == 6) {
        s->select = v | 0xA0; /* bits 7 and 5 are obsolete and read as one */
    }
}

static void cmd_write(void *opaque, uint32_t off, uint32_t value, unsigned width)
{
    IdeChannel *ch = opaque;
    if (off == 0) {
        data_write(ch, value, width);
        return;
    }
    if (width > 1) {
        for (unsigned i = 0; i < width; i++)
            cmd_write(ch, (off + i) & 7, (value >> (8 * i)) & 0xFF, 1);
        return;
    }
    if (off == 7) {
        drive_command(ch, (uint8_t)value);
        return;
    }
    ch->devctl &= (uint8_t)~IDE_CTL_HOB;
    for (int u = 0; u < 2; u++)
        taskfile_write(&ch->drive[u].s, off, (uint8_t)value);
    if (off == 6) {
        ch->cur = (value >> 4) & 1;
        channel_update_irq(ch);
    }
}

/* SRST: devices go busy while it is set and come back with their
 * signatures when it is cleared (ATA-6 §9.2, software reset protocol). */
static void channel_soft_reset(IdeChannel *ch)
{
    for (int u = 0; u < 2; u++) {
        IdeDrive *d = &ch->drive[u];
        if (!d->s.present)
            continue;
        d->s.intrq = 0;
        drive_set_signature(d);
        d->s.select = (uint8_t)(0xA0 | (u << 4));
        d->s.mult_sectors = 0;
        if (d->s.atapi)
            ide_atapi_reset(d, false);
    }
    ch->cur = 0;
    for (int u = 0; u < 2; u++)
        ch->drive[u].s.select = 0xA0;
    channel_update_irq(ch);
}

static uint32_t ctl_read(void *opaque, uint32_t off, unsigned width)
{
    IdeChannel *ch = opaque;
    (void)off;
    (void)width;
    IdeDrive *d = &ch->drive[ch->cur];
    return d->s.present ? drive_status(ch, d) : 0; /* alternate status: no INTRQ side effect */
}

static void ctl_write(void *opaque, uint32_t off, uint32_t value, unsigned width)
{
    IdeChannel *ch = opaque;
    (void)off;
    (void)width;
    uint8_t old = ch->devctl;
    ch->devctl = (uint8_t)value;
    if ((old & IDE_CTL_SRST) && !(value & IDE_CTL_SRST))
        channel_soft_reset(ch);
    channel_update_irq(ch);
}

static const IoOps cmd_ops = {cmd_read, cmd_write, IO_W8 | IO_W16 | IO_W32, "ide"};
static const IoOps ctl_ops = {ctl_read, ctl_write, IO_W8, "ide-ctl"};

/* ------------------------------------------------------------ bus master (BAR4) */

/* Loads the next PRD: 32-bit base, byte count (0 = 64 KiB) and EOT in bit 31
 * of the second dword (PIIX3 datasheet, "Physical Region Descriptor"). */
static bool bm_next_prd(IdeChannel *ch)
{
    if (ch->prd_eot)
        return false;
    uint8_t prd[8];
    bus_dma_read(ch->ide->bus, ch->prd_cur, prd, sizeof prd);
    ch->prd_cur = (ch->prd_cur & ~0xFFFFu) | ((ch->prd_cur + 8) & 0xFFFFu); /* table stays in its 64K */
    ch->prd_addr = ((uint32_t)prd[0] | (uint32_t)prd[1] << 8 | (uint32_t)prd[2] << 16 |
                    (uint32_t)prd[3] << 24) & ~1u;
    uint32_t count = ((uint32_t)prd[4] | (uint32_t)prd[5] << 8) & ~1u;
    ch->prd_left = count ? count : 0x10000;
    ch->prd_eot = (prd[7] & 0x80) != 0;
    return true;
}

static bool bm_bus_master_enabled(IdeChannel *ch)
{
    PciDevice *pd = ch->ide->pci_dev;
    return !pd || (pci_config_space(pd)[0x04] & 0x04);
}

/* Moves data between the selected drive's buffer and guest memory until the
 * drive's transfer ends or the PRD table runs out.  A table shorter than the
 * transfer stops the engine (active cleared) with the drive still waiting,
 * as on hardware; a longer one leaves active set with the interrupt bit
 * (PIIX3 datasheet, BMISX bit 0 description). */
void ide_bm_run(IdeChannel *ch)
{
    IdeDrive *d = &ch->drive[ch->cur];
    if (!(ch->bm_cmd & IDE_BM_CMD_START) || !(ch->bm_status & IDE_BM_ST_ACTIVE))
        return;
    if (!bm_bus_master_enabled(ch))
        return;
    int guard = 1 << 20;
    while (d->s.dma_pending && guard-- > 0) {
        IdeDriveState *s = &d->s;
        bool to_mem = (ch->bm_cmd & IDE_BM_CMD_WRITE) != 0;
        if (to_mem != (bool)s->to_host)
            return; /* direction mismatch: the transfer never starts */
        if (s->pos >= s->end) {
            ide_xfer_done(d);
            continue;
        }
        if (ch->prd_left == 0 && !bm_next_prd(ch)) {
            ch->bm_status &= (uint8_t)~IDE_BM_ST_ACTIVE;
            return;
        }
        uint32_t n = s->end - s->pos;
        if (n > ch->prd_left)
            n = ch->prd_left;
        if (to_mem)
            bus_dma_write(ch->ide->bus, ch->prd_addr, d->buf + s->pos, n);
        else
            bus_dma_read(ch->ide->bus, ch->prd_addr, d->buf + s->pos, n);
        s->pos += n;
        ch->prd_addr += n;
        ch->prd_left -= n;
    }
    if (!d->s.dma_pending && ch->prd_left == 0 && ch->prd_eot)
        ch->bm_status &= (uint8_t)~IDE_BM_ST_ACTIVE;
}

static void bm_write_cmd(IdeChannel *ch, uint8_t v)
{
    uint8_t old = ch->bm_cmd;
    ch->bm_cmd = v & (IDE_BM_CMD_START | IDE_BM_CMD_WRITE);
    if ((v & IDE_BM_CMD_START) && !(old & IDE_BM_CMD_START)) {
        ch->prd_cur = ch->prd_table;
        ch->prd_left = 0;
        ch->prd_eot = 0;
        ch->bm_status |= IDE_BM_ST_ACTIVE;
        ide_bm_run(ch);
    } else if (!(v & IDE_BM_CMD_START)) {
        ch->bm_status &= (uint8_t)~IDE_BM_ST_ACTIVE; /* stopping aborts the engine */
    }
}

static uint8_t bm_read_byte(IdeChannel *ch, uint32_t off)
{
    switch (off) {
    case 0: return ch->bm_cmd;
    case 2: return ch->bm_status;
    case 4: case 5: case 6: case 7: return (uint8_t)(ch->prd_table >> (8 * (off - 4)));
    default: return 0;
    }
}

static void bm_write_byte(IdeChannel *ch, uint32_t off, uint8_t v)
{
    switch (off) {
    case 0: bm_write_cmd(ch, v); break;
    case 2: /* bits 1-2 write-one-to-clear, 5-6 (drive DMA capable) plain */
        ch->bm_status = (uint8_t)((ch->bm_status & ~(v & 0x06) & 0x07) | (v & 0x60));
        break;
    case 4: case 5: case 6: case 7: {
        unsigned sh = 8 * (off - 4);
        ch->prd_table = (ch->prd_table & ~(0xFFu << sh)) | ((uint32_t)v << sh);
        ch->prd_table &= ~3u;
        break;
    }
    default: break;
    }
}

static uint32_t bm_read(void *opaque, uint32_t off, unsigned width)
{
    Ide *ide = opaque;
    uint32_t v = 0;
    for (unsigned i = 0; i < width; i++) {
        uint32_t o = (off + i) & 15;
        v |= (uint32_t)bm_read_byte(&ide->ch[o >> 3], o & 7) << (8 * i);
    }
    return v;
}

static void bm_write(void *opaque, uint32_t off, uint32_t value, unsigned width)
{
    Ide *ide = opaque;
    /* The PRD pointer is written as a whole before the start bit is seen. */
    for (unsigned i = 0; i < width; i++) {
        uint32_t o = (off + i) & 15;
        bm_write_byte(&ide->ch[o >> 3], o & 7, (uint8_t)(value >> (8 * i)));
    }
}

static const IoOps bm_ops = {bm_read, bm_write, IO_W8 | IO_W16 | IO_W32, "ide-bmdma"};

/* ------------------------------------------------------------ PCI */

/* The PIIX3 timing registers (IDETIM 40h-43h, SIDETIM 44h) need no code:
 * pci.c stores them and the timings have no effect here. */
static const PciDeviceInfo ide_pci_info = {
    .vendor_id = 0x8086, .device_id = 0x7010, .revision = 0x00,
    .class_code = 0x01, .subclass = 0x01, .prog_if = 0x80,
    .header_type = 0x00, .interrupt_pin = 0, .name = "piix3-ide",
};

/* ------------------------------------------------------------ drives */

static void drive_init_geometry(IdeDrive *d)
{
    IdeDriveState *s = &d->s;
    uint64_t n = d->bd ? d->bd->size / DISK_SECTOR : 0;
    s->nsectors = s->atapi ? 0 : n;
    uint64_t cyls = n / (IDE_DEFAULT_HEADS * IDE_DEFAULT_SPT);
    if (cyls > IDE_MAX_CHS_CYLS)
        cyls = IDE_MAX_CHS_CYLS;
    s->def_cyls = (uint16_t)cyls;
    s->cur_cyls = (uint16_t)cyls;
    s->cur_heads = IDE_DEFAULT_HEADS;
    s->cur_spt = IDE_DEFAULT_SPT;
}

/* Power-on state of one drive. */
static void drive_power_on(IdeDrive *d)
{
    bool present = d->s.present, atapi = d->s.atapi;
    d->s = (IdeDriveState){.present = present, .atapi = atapi};
    if (!present)
        return;
    drive_init_geometry(d);
    d->s.wcache = 1;
    d->s.xfer_mode = 0;
    drive_set_signature(d);
    d->s.select = 0xA0;
    if (atapi)
        ide_atapi_reset(d, true);
}

static void ide_reset(void *dev)
{
    Ide *ide = dev;
    for (int c = 0; c < IDE_CHANNELS; c++) {
        IdeChannel *ch = &ide->ch[c];
        ch->devctl = 0;
        ch->cur = 0;
        ch->bm_cmd = 0;
        ch->bm_status = 0;
        ch->prd_table = ch->prd_cur = ch->prd_addr = ch->prd_left = 0;
        ch->prd_eot = 0;
        for (int u = 0; u < 2; u++) {
            drive_power_on(&ch->drive[u]);
            if (ch->drive[u].s.present)
                ch->bm_status |= (uint8_t)(0x20 << u); /* "drive u DMA capable" (BIOS sets it too) */
        }
        channel_update_irq(ch);
    }
}

/* ------------------------------------------------------------ save / load */

static void ide_save(void *dev, StateStream *st)
{
    Ide *ide = dev;
    for (int c = 0; c < IDE_CHANNELS; c++) {
        IdeChannel *ch = &ide->ch[c];
        uint32_t regs[8] = {ch->devctl, ch->cur, ch->bm_cmd, ch->bm_status,
                            ch->prd_table, ch->prd_cur, ch->prd_addr, ch->prd_left};
        state_put(st, "ide.channel", regs, sizeof regs);
        state_put(st, "ide.prd_eot", &ch->prd_eot, sizeof ch->prd_eot);
        for (int u = 0; u < 2; u++) {
            state_put(st, "ide.drive", &ch->drive[u].s, sizeof ch->drive[u].s);
            state_put(st, "ide.buf", ch->drive[u].buf, IDE_BUF_SIZE);
        }
    }
}

static int drive_load(IdeDrive *d, StateStream *st)
{
    IdeDriveState s;
    if (state_get(st, "ide.drive", &s, sizeof s) < 0 || state_get(st, "ide.buf", d->buf, IDE_BUF_SIZE) < 0)
        return -1;
    /* Presence and media come from the configuration, not the snapshot. */
    if (s.present != d->s.present || s.atapi != d->s.atapi)
        return -1;
    if (s.kind >= IDE_XFER_COUNT || s.end > IDE_BUF_SIZE || s.pos > s.end || s.mult_sectors > IDE_MAX_MULTIPLE)
        return -1;
    s.nsectors = d->s.nsectors;
    d->s = s;
    return 0;
}

static int ide_load(void *dev, StateStream *st)
{
    Ide *ide = dev;
    for (int c = 0; c < IDE_CHANNELS; c++) {
        IdeChannel *ch = &ide->ch[c];
        uint32_t regs[8];
        if (state_get(st, "ide.channel", regs, sizeof regs) < 0 ||
            state_get(st, "ide.prd_eot", &ch->prd_eot, sizeof ch->prd_eot) < 0)
            return -1;
        ch->devctl = (uint8_t)regs[0];
        ch->cur = regs[1] & 1;
        ch->bm_cmd = (uint8_t)regs[2];
        ch->bm_status = (uint8_t)regs[3];
        ch->prd_table = regs[4];
        ch->prd_cur = regs[5];
        ch->prd_addr = regs[6];
        ch->prd_left = regs[7] > 0x10000 ? 0x10000 : regs[7];
        for (int u = 0; u < 2; u++)
            if (drive_load(&ch->drive[u], st) < 0)
                return -1;
        channel_update_irq(ch);
    }
    return 0;
}

/* ------------------------------------------------------------ create / destroy */

static void ide_destroy(void *dev)
{
    Ide *ide = dev;
    if (!ide)
        return;
    for (int c = 0; c < IDE_CHANNELS; c++) {
        if (ide->ch[c].mapped) {
            bus_unmap_io(ide->bus, cmd_base[c], 8);
            bus_unmap_io(ide->bus, ctl_base[c], 1);
        }
        for (int u = 0; u < 2; u++)
            free(ide->ch[c].drive[u].buf);
    }
    free(ide);
}

static bool ide_init_drives(Ide *ide, BlockDev *drives[4], const bool cdrom[4])
{
    for (int i = 0; i < 4; i++) {
        IdeChannel *ch = &ide->ch[i >> 1];
        IdeDrive *d = &ch->drive[i & 1];
        d->ch = ch;
        d->index = i;
        d->bd = drives ? drives[i] : NULL;
        d->s.atapi = cdrom && cdrom[i];
        d->s.present = d->bd != NULL || d->s.atapi;
        d->buf = calloc(1, IDE_BUF_SIZE);
        if (!d->buf)
            return false;
    }
    return true;
}

Ide *ide_create(Bus *bus, PciBus *pci, Clock *clk, IrqLine irq14, IrqLine irq15,
                struct BlockDev *drives[4], const bool cdrom[4])
{
    Ide *ide = calloc(1, sizeof *ide);
    if (!ide)
        return NULL;
    ide->bus = bus;
    ide->clk = clk;
    ide->ch[0].irq = irq14;
    ide->ch[1].irq = irq15;
    for (int c = 0; c < IDE_CHANNELS; c++)
        ide->ch[c].ide = ide;
    if (!ide_init_drives(ide, drives, cdrom))
        goto fail;
    for (int c = 0; c < IDE_CHANNELS; c++) {
        if (bus_map_io(bus, cmd_base[c], 8, &cmd_ops, &ide->ch[c]) < 0)
            goto fail;
        if (bus_map_io(bus, ctl_base[c], 1, &ctl_ops, &ide->ch[c]) < 0) {
            bus_unmap_io(bus, cmd_base[c], 8);
            goto fail;
        }
        ide->ch[c].mapped = true;
    }
    if (pci) {
        ide->pci_dev = pci_add_device(pci, 0x09, &ide_pci_info, NULL, ide);
        if (!ide->pci_dev)
            goto fail;
        PciBar bar = {.type = PCI_BAR_IO, .size = 16, .io = &bm_ops, .dev = ide};
        pci_set_bar(ide->pci_dev, 4, &bar);
    }
    ide_reset(ide);
    return ide;
fail:
    ide_destroy(ide);
    return NULL;
}

const DeviceClass ide_device_class = {
    .name = "ide",
    .reset = ide_reset,
    .save = ide_save,
    .load = ide_load,
    .destroy = ide_destroy,
};
