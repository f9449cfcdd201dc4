/*
 * chipset/fdc.c -- the Intel 82077AA floppy disk controller in PC-AT mode:
 * DOR 3F2h, TDR 3F3h, MSR/DSR 3F4h, FIFO 3F5h, DIR/CCR 3F7h; IRQ 6 and ISA
 * DMA channel 2; two drives whose media geometry follows the image size.
 *
 * References: Intel 82077AA datasheet (register descriptions §2, command
 * set and result phases §5, status registers ST0-ST3 Tables 5-5..5-8, reset
 * behaviour §4, "C, H, R, N after command termination" table); OSDev
 * "Floppy Disk Controller".
 *
 * Model: commands execute as soon as their last parameter byte arrives.
 * Data commands raise DREQ on channel 2 and move whole sectors from the DMA
 * handler (or byte by byte through the FIFO in non-DMA mode); seeks complete
 * at once.  Media geometry never changes: FORMAT TRACK only fills sectors.
 */
#include <stdlib.h>
#include <string.h>

#include "chipset/devices.h"
#include "disk/disk.h"

#define FDC_BASE 0x3F0
#define FDC_DIR_PORT 0x3F7
#define FDC_DMA_CHANNEL 2
#define FDC_DRIVES 4     /* the controller addresses four; the board wires two */
#define FDC_SECTOR 512u
#define FDC_FIFO 16

/* DOR bits (datasheet §2.1.2). */
enum { DOR_SEL = 0x03, DOR_NRESET = 0x04, DOR_DMAGATE = 0x08 };
/* MSR bits (§2.1.4). */
enum { MSR_RQM = 0x80, MSR_DIO = 0x40, MSR_NDMA = 0x20, MSR_CB = 0x10 };
/* DSR bits (§2.1.5). */
enum { DSR_RATE = 0x03, DSR_SWRESET = 0x80 };
/* ST0 (Table 5-5). */
enum { ST0_ABNORMAL = 0x40, ST0_INVALID = 0x80, ST0_POLL = 0xC0, ST0_SE = 0x20, ST0_EC = 0x10 };
/* ST1 (Table 5-6). */
enum { ST1_MA = 0x01, ST1_NW = 0x02, ST1_ND = 0x04, ST1_EN = 0x80 };
/* ST2 (Table 5-7). */
enum { ST2_WC = 0x10 };
/* ST3 (Table 5-8): RDY and TS are tied high on the 82077AA. */
enum { ST3_WP = 0x40, ST3_RDY = 0x20, ST3_T0 = 0x10, ST3_TS = 0x08 };
/* Data rates (DSR/CCR bits 1:0). */
enum { RATE_500K = 0, RATE_300K = 1, RATE_250K = 2, RATE_1M = 3 };

typedef enum FdcPhase { PH_COMMAND = 0, PH_EXEC, PH_RESULT } FdcPhase;

/* Media formats, from the image size. */
typedef struct FdcFormat {
    uint32_t bytes;
    uint8_t tracks, heads, spt;
    uint8_t rate, alt_rate; /* accepted data rates */
    uint8_t cmos_type;
} FdcFormat;

static const FdcFormat fdc_formats[] = {
    {163840, 40, 1, 8, RATE_250K, RATE_300K, 1},
    {184320, 40, 1, 9, RATE_250K, RATE_300K, 1},
    {327680, 40, 2, 8, RATE_250K, RATE_300K, 1},
    {368640, 40, 2, 9, RATE_250K, RATE_300K, 1},
    {737280, 80, 2, 9, RATE_250K, RATE_250K, 3},
    {1228800, 80, 2, 15, RATE_500K, RATE_500K, 2},
    {1474560, 80, 2, 18, RATE_500K, RATE_500K, 4},
    {1720320, 80, 2, 21, RATE_500K, RATE_500K, 4}, /* DMF */
    {2949120, 80, 2, 36, RATE_1M, RATE_1M, 5},
};
#define FDC_NFORMATS (sizeof fdc_formats / sizeof fdc_formats[0])

/* The smallest standard format holding the image (the largest if none). */
static const FdcFormat *format_for_size(uint64_t bytes)
{
    for (size_t i = 0; i < FDC_NFORMATS; i++)
        if (bytes <= fdc_formats[i].bytes)
            return &fdc_formats[i];
    return &fdc_formats[FDC_NFORMATS - 1];
}

int fdc_drive_type(const struct BlockDev *bd)
{
    return bd ? format_for_size(bd->size)->cmos_type : 0;
}

/* Everything plain (saved as one blob). */
typedef struct FdcState {
    uint8_t dor, tdr, dsr, rate;
    uint8_t phase;
    uint8_t cmd[9], cmd_len, cmd_pos;
    uint8_t res[10], res_len, res_pos;
    /* drives */
    uint8_t track[FDC_DRIVES];
    uint8_t disk_changed[FDC_DRIVES];
    uint8_t seek_busy;            /* MSR drive-busy bits */
    uint8_t int_pending;          /* bit per drive: seek/recalibrate/reset status */
    uint8_t int_st0[FDC_DRIVES];
    uint8_t irq;
    /* SPECIFY, CONFIGURE, LOCK, PERPENDICULAR */
    uint8_t specify[2];
    uint8_t config, pretrk, lock, perpendicular;
    /* transfer in progress */
    uint8_t xfer_op;              /* opcode (low 5 bits) of the data command */
    uint8_t drive, head, cyl, sector, eot, mt, status1, status2;
    uint8_t st0_head;             /* head of the last sector handled, for ST0 */
    uint8_t sec_loaded;           /* buf holds the current sector (reads) */
    uint16_t sec_pos;             /* bytes of the current sector moved */
    uint16_t fmt_count, fmt_pos;  /* FORMAT TRACK: sectors, ID bytes received */
    uint8_t fmt_id[4];
    uint8_t fill;
    uint8_t dreq;
    uint8_t buf[FDC_SECTOR];
} FdcState;

struct Fdc {
    Bus *bus;
    Clock *clk;
    IrqLine irq6;
    IsaDma *dma;
    BlockDev *bd[FDC_DRIVES];
    const FdcFormat *fmt[FDC_DRIVES];
    bool mapped;
    FdcState s;
};

/* ------------------------------------------------------------ IRQ and DREQ */

/* In AT mode DOR bit 3 gates both INT and DRQ (datasheet §2.1.2). */
static void fdc_update_lines(Fdc *f)
{
    FdcState *s = &f->s;
    irq_set(&f->irq6, s->irq && (s->dor & DOR_DMAGATE));
    if (f->dma)
        isa_dma_request(f->dma, FDC_DMA_CHANNEL, s->dreq && (s->dor & DOR_DMAGATE));
}

static void fdc_raise(Fdc *f)
{
    f->s.irq = 1;
    fdc_update_lines(f);
}

static void fdc_lower(Fdc *f)
{
    f->s.irq = 0;
    fdc_update_lines(f);
}

/* ------------------------------------------------------------ result phase */

static void fdc_result(Fdc *f, const uint8_t *bytes, int n, bool irq)
{
    FdcState *s = &f->s;
    memcpy(s->res, bytes, (size_t)n);
    s->res_len = (uint8_t)n;
    s->res_pos = 0;
    s->phase = PH_RESULT;
    s->dreq = 0;
    if (irq)
        fdc_raise(f);
    else
        fdc_update_lines(f);
}

static void fdc_to_command(Fdc *f)
{
    FdcState *s = &f->s;
    s->phase = PH_COMMAND;
    s->cmd_pos = s->cmd_len = 0;
    s->res_len = s->res_pos = 0;
}

static uint8_t st0_of(const FdcState *s, uint8_t ic)
{
    return (uint8_t)(ic | (s->st0_head << 2) | s->drive);
}

/* The seven-byte result of data commands: ST0 ST1 ST2 C H R N. */
static void fdc_data_result(Fdc *f, uint8_t st0)
{
    FdcState *s = &f->s;
    uint8_t r[7] = {st0, s->status1, s->status2, s->cyl, s->head, s->sector, 2};
    fdc_result(f, r, 7, true);
}

/* ------------------------------------------------------------ media access */

static bool rate_ok(const Fdc *f, int drive)
{
    const FdcFormat *fm = f->fmt[drive];
    return fm && (f->s.rate == fm->rate || f->s.rate == fm->alt_rate);
}

/* LBA of (cyl, head, sector) on the drive's medium, or -1 with ST1/ST2 set
 * as the 82077AA would find it: no readable IDs (MA) on a missing side or
 * at the wrong data rate, a wrong cylinder (WC) when the head is elsewhere,
 * no such sector (ND). */
static int64_t fdc_sector_lba(Fdc *f)
{
    FdcState *s = &f->s;
    const FdcFormat *fm = f->fmt[s->drive];
    if (!fm || !rate_ok(f, s->drive) || s->head >= fm->heads || s->track[s->drive] >= fm->tracks) {
        s->status1 |= ST1_MA;
        return -1;
    }
    if (s->cyl != s->track[s->drive]) {
        s->status1 |= ST1_ND;
        s->status2 |= ST2_WC;
        return -1;
    }
    if (s->sector == 0 || s->sector > fm->spt || s->cmd[5] != 2) {
        s->status1 |= ST1_ND;
        return -1;
    }
    return ((int64_t)s->cyl * fm->heads + s->head) * fm->spt + (s->sector - 1);
}

/* Advances C/H/R after a sector; returns false past the end of the track
 * (MT continues from head 0 to head 1), following the datasheet's table of
 * C, H, R after termination. */
static bool fdc_next_sector(FdcState *s)
{
    if (s->sector < s->eot) {
        s->sector++;
        return true;
    }
    s->sector = 1;
    if (s->mt && s->head == 0) {
        s->head = 1;
        return true;
    }
    if (s->mt)
        s->head = 0;
    s->cyl++;
    return false;
}

/* ------------------------------------------------------------ data transfer */

enum { OP_READ = 0x06, OP_WRITE = 0x05, OP_FORMAT = 0x0D };

static void fdc_end_transfer(Fdc *f, uint8_t ic)
{
    f->s.dreq = 0;
    fdc_data_result(f, st0_of(&f->s, ic));
}

/* Loads the current sector for a read; false ends the command. */
static bool fdc_load_sector(Fdc *f)
{
    FdcState *s = &f->s;
    int64_t lba = fdc_sector_lba(f);
    BlockDev *bd = f->bd[s->drive];
    if (lba < 0)
        return false;
    if ((uint64_t)(lba + 1) * FDC_SECTOR > bd->size || bd->read(bd, (uint64_t)lba, s->buf, 1) != 0) {
        s->status1 |= ST1_ND; /* beyond a short image, or a host read error */
        return false;
    }
    s->sec_loaded = 1;
    s->sec_pos = 0;
    return true;
}

/* Writes the filled sector; false ends the command. */
static bool fdc_store_sector(Fdc *f)
{
    FdcState *s = &f->s;
    int64_t lba = fdc_sector_lba(f);
    BlockDev *bd = f->bd[s->drive];
    if (lba < 0)
        return false;
    if ((uint64_t)(lba + 1) * FDC_SECTOR > bd->size || bd->write(bd, (uint64_t)lba, s->buf, 1) != 0) {
        s->status1 |= ST1_ND;
        return false;
    }
    return true;
}

/* One sector's worth of bytes is done: next sector, or the end of the
 * track (EN unless the host stopped us with TC exactly there). */
static bool fdc_sector_done(Fdc *f, bool tc)
{
    FdcState *s = &f->s;
    s->sec_loaded = 0;
    s->sec_pos = 0;
    s->st0_head = s->head; /* ST0 H: the head that handled the last sector */
    bool more = fdc_next_sector(s);
    if (tc) {
        fdc_end_transfer(f, 0);
        return false;
    }
    if (!more) {
        /* DMA mode: the track ended before terminal count (ST1 EN).  In
         * non-DMA mode there is no TC, so the end of track ends normally. */
        bool ndma = (s->specify[1] & 1) != 0;
        if (!ndma)
            s->status1 |= ST1_EN;
        fdc_end_transfer(f, ndma ? 0 : ST0_ABNORMAL);
        return false;
    }
    return true;
}

/* FORMAT TRACK: one 4-byte sector ID (C, H, R, N) received.  Sectors whose
 * ID fits the medium's fixed geometry are filled with the D byte; others
 * cannot be represented in an image and are skipped. */
static bool fdc_format_id(Fdc *f)
{
    FdcState *s = &f->s;
    uint8_t phys_head = s->head;
    s->cyl = s->fmt_id[0];
    s->sector = s->fmt_id[2];
    uint8_t fill = s->cmd[5];
    s->cmd[5] = s->fmt_id[3]; /* fdc_sector_lba checks N there */
    int64_t lba = s->fmt_id[1] == phys_head ? fdc_sector_lba(f) : -1;
    s->cmd[5] = fill;
    s->status1 = s->status2 = 0;
    BlockDev *bd = f->bd[s->drive];
    if (lba >= 0 && (uint64_t)(lba + 1) * FDC_SECTOR <= bd->size) {
        memset(s->buf, s->fill, FDC_SECTOR);
        if (bd->write(bd, (uint64_t)lba, s->buf, 1) != 0) {
            s->status1 |= ST1_ND;
            fdc_end_transfer(f, ST0_ABNORMAL);
            return false;
        }
    }
    s->fmt_pos = 0;
    if (--s->fmt_count == 0) {
        fdc_end_transfer(f, 0);
        return false;
    }
    return true;
}

/* Channel 2 DMA service: moves bytes while DREQ is up (datasheet §6.1,
 * DMA mode).  `size` is the programmed count; pos == size is terminal count. */
static int fdc_dma_handler(void *dev, int channel, int pos, int size)
{
    Fdc *f = dev;
    FdcState *s = &f->s;
    (void)channel;
    while (s->phase == PH_EXEC && s->dreq && pos < size) {
        if (s->xfer_op == OP_FORMAT) {
            int n = isa_dma_read_memory(f->dma, FDC_DMA_CHANNEL, s->fmt_id + s->fmt_pos, pos, 4 - s->fmt_pos);
            if (n <= 0)
                break;
            pos += n;
            s->fmt_pos = (uint16_t)(s->fmt_pos + n);
            if (s->fmt_pos == 4 && !fdc_format_id(f))
                break;
            continue;
        }
        if (s->xfer_op == OP_READ && !s->sec_loaded && !fdc_load_sector(f)) {
            fdc_end_transfer(f, ST0_ABNORMAL);
            break;
        }
        int want = (int)(FDC_SECTOR - s->sec_pos);
        if (want > size - pos)
            want = size - pos;
        int n = s->xfer_op == OP_READ
                    ? isa_dma_write_memory(f->dma, FDC_DMA_CHANNEL, s->buf + s->sec_pos, pos, want)
                    : isa_dma_read_memory(f->dma, FDC_DMA_CHANNEL, s->buf + s->sec_pos, pos, want);
        if (n <= 0)
            break;
        pos += n;
        s->sec_pos = (uint16_t)(s->sec_pos + n);
        bool tc = pos >= size;
        if (s->sec_pos < FDC_SECTOR && !tc)
            continue;
        if (s->xfer_op == OP_WRITE) {
            /* TC in mid-sector: the rest of the sector is written as zeros. */
            memset(s->buf + s->sec_pos, 0, FDC_SECTOR - s->sec_pos);
            if (!fdc_store_sector(f)) {
                fdc_end_transfer(f, ST0_ABNORMAL);
                break;
            }
        }
        if (!fdc_sector_done(f, tc))
            break;
    }
    if (s->phase == PH_EXEC && s->xfer_op == OP_FORMAT && pos >= size && s->dreq) {
        fdc_end_transfer(f, 0); /* terminal count ends FORMAT early */
    }
    fdc_update_lines(f);
    return pos;
}

/* Non-DMA execution phase: bytes through the FIFO (datasheet §6.2). */
static uint8_t fdc_pio_read(Fdc *f)
{
    FdcState *s = &f->s;
    if (!s->sec_loaded && !fdc_load_sector(f)) {
        fdc_end_transfer(f, ST0_ABNORMAL);
        return 0;
    }
    uint8_t v = s->buf[s->sec_pos++];
    if (s->sec_pos >= FDC_SECTOR)
        fdc_sector_done(f, false);
    return v;
}

static void fdc_pio_write(Fdc *f, uint8_t v)
{
    FdcState *s = &f->s;
    if (s->xfer_op == OP_FORMAT) {
        s->fmt_id[s->fmt_pos++] = v;
        if (s->fmt_pos == 4)
            fdc_format_id(f);
        return;
    }
    s->buf[s->sec_pos++] = v;
    if (s->sec_pos < FDC_SECTOR)
        return;
    if (!fdc_store_sector(f)) {
        fdc_end_transfer(f, ST0_ABNORMAL);
        return;
    }
    fdc_sector_done(f, false);
}

/* Starts the execution phase of a data command. */
static void fdc_start_transfer(Fdc *f)
{
    FdcState *s = &f->s;
    s->phase = PH_EXEC;
    s->sec_loaded = 0;
    s->sec_pos = 0;
    s->fmt_pos = 0;
    if (s->specify[1] & 1) { /* non-DMA: the host moves bytes; INT asks for them */
        s->dreq = 0;
        fdc_raise(f);
        return;
    }
    s->dreq = 1;
    fdc_update_lines(f);
    if (f->dma && (s->dor & DOR_DMAGATE))
        isa_dma_run(f->dma);
}

/* ------------------------------------------------------------ commands */

static void fdc_select(FdcState *s, uint8_t hds_ds)
{
    s->drive = hds_ds & 3;
    s->head = (hds_ds >> 2) & 1;
    s->st0_head = s->head;
}

/* Implied seek (CONFIGURE EIS) moves the head to the command's cylinder. */
static void fdc_implied_seek(Fdc *f)
{
    FdcState *s = &f->s;
    if ((s->config & 0x40) && f->fmt[s->drive])
        s->track[s->drive] = s->cyl;
}

static void cmd_read_write(Fdc *f)
{
    FdcState *s = &f->s;
    fdc_select(s, s->cmd[1]);
    s->xfer_op = s->cmd[0] & 0x1F;
    s->mt = s->cmd[0] >> 7;
    s->cyl = s->cmd[2];
    s->sector = s->cmd[4];
    s->eot = s->cmd[6];
    s->status1 = s->status2 = 0;
    if (!f->bd[s->drive]) {
        s->status1 = ST1_MA;
        fdc_data_result(f, st0_of(s, ST0_ABNORMAL));
        return;
    }
    fdc_implied_seek(f);
    if (s->xfer_op == OP_WRITE && f->bd[s->drive]->readonly) {
        s->status1 = ST1_NW;
        fdc_data_result(f, st0_of(s, ST0_ABNORMAL));
        return;
    }
    /* Fail early when no sector can be found at all; the IDs on side n
     * carry H = n, so a different H in the command finds nothing (ND). */
    if (s->cmd[3] != s->head)
        s->status1 |= ST1_ND;
    if (fdc_sector_lba(f) < 0 || s->status1) {
        fdc_data_result(f, st0_of(s, ST0_ABNORMAL));
        return;
    }
    fdc_start_transfer(f);
}

static void cmd_format(Fdc *f)
{
    FdcState *s = &f->s;
    fdc_select(s, s->cmd[1]);
    s->xfer_op = OP_FORMAT;
    s->status1 = s->status2 = 0;
    s->cyl = s->track[s->drive];
    s->sector = 1;
    s->fmt_count = s->cmd[3];
    s->fill = s->cmd[5];
    BlockDev *bd = f->bd[s->drive];
    if (!bd || !rate_ok(f, s->drive)) {
        s->status1 = ST1_MA;
        fdc_data_result(f, st0_of(s, ST0_ABNORMAL));
        return;
    }
    if (bd->readonly) {
        s->status1 = ST1_NW;
        fdc_data_result(f, st0_of(s, ST0_ABNORMAL));
        return;
    }
    if (s->fmt_count == 0) {
        fdc_data_result(f, st0_of(s, 0));
        return;
    }
    fdc_start_transfer(f);
}

static void cmd_read_id(Fdc *f)
{
    FdcState *s = &f->s;
    fdc_select(s, s->cmd[1]);
    s->status1 = s->status2 = 0;
    const FdcFormat *fm = f->fmt[s->drive];
    s->cyl = s->track[s->drive];
    s->sector = 1;
    if (!fm || !rate_ok(f, s->drive) || s->head >= fm->heads || s->cyl >= fm->tracks) {
        s->status1 = ST1_MA;
        fdc_data_result(f, st0_of(s, ST0_ABNORMAL));
        return;
    }
    fdc_data_result(f, st0_of(s, 0));
}

static void cmd_specify(Fdc *f)
{
    f->s.specify[0] = f->s.cmd[1];
    f->s.specify[1] = f->s.cmd[2];
    fdc_to_command(f);
}

static void cmd_sense_drive(Fdc *f)
{
    FdcState *s = &f->s;
    fdc_select(s, s->cmd[1]);
    BlockDev *bd = f->bd[s->drive];
    uint8_t st3 = (uint8_t)(ST3_RDY | ST3_TS | (s->head << 2) | s->drive);
    if (s->track[s->drive] == 0)
        st3 |= ST3_T0;
    if (bd && bd->readonly)
        st3 |= ST3_WP;
    fdc_result(f, &st3, 1, false);
}

/* Seek and recalibrate end with an interrupt and a status for SENSE
 * INTERRUPT STATUS; stepping with a medium in clears the change line. */
static void fdc_seek_done(Fdc *f, int drive, uint8_t st0)
{
    FdcState *s = &f->s;
    s->int_st0[drive] = st0;
    s->int_pending |= (uint8_t)(1u << drive);
    s->seek_busy |= (uint8_t)(1u << drive);
    if (f->bd[drive])
        s->disk_changed[drive] = 0;
    fdc_to_command(f);
    fdc_raise(f);
}

static void cmd_recalibrate(Fdc *f)
{
    FdcState *s = &f->s;
    int d = s->cmd[1] & 3;
    s->track[d] = 0;
    /* No drive: TRK0 never comes after 79 steps (equipment check). */
    uint8_t st0 = f->bd[d] ? (uint8_t)(ST0_SE | d) : (uint8_t)(ST0_ABNORMAL | ST0_SE | ST0_EC | d);
    fdc_seek_done(f, d, st0);
}

static void cmd_seek(Fdc *f)
{
    FdcState *s = &f->s;
    int d = s->cmd[1] & 3;
    s->track[d] = s->cmd[2];
    fdc_seek_done(f, d, (uint8_t)(ST0_SE | (s->cmd[1] & 4) | d));
}

/* SENSE INTERRUPT STATUS: one pending drive status per call; none pending
 * is an invalid command (single byte 80h). */
static void cmd_sense_interrupt(Fdc *f)
{
    FdcState *s = &f->s;
    if (!s->int_pending) {
        uint8_t r = ST0_INVALID;
        fdc_result(f, &r, 1, false);
        return;
    }
    int d = 0;
    while (!(s->int_pending & (1u << d)))
        d++;
    s->int_pending &= (uint8_t)~(1u << d);
    s->seek_busy &= (uint8_t)~(1u << d);
    uint8_t r[2] = {s->int_st0[d], s->track[d]};
    fdc_lower(f);
    fdc_result(f, r, 2, false);
}

static void cmd_version(Fdc *f)
{
    uint8_t r = 0x90; /* 82077AA */
    fdc_result(f, &r, 1, false);
}

static void cmd_configure(Fdc *f)
{
    f->s.config = f->s.cmd[2];
    f->s.pretrk = f->s.cmd[3];
    fdc_to_command(f);
}

static void cmd_lock(Fdc *f)
{
    f->s.lock = f->s.cmd[0] >> 7;
    uint8_t r = (uint8_t)(f->s.lock << 4);
    fdc_result(f, &r, 1, false);
}

static void cmd_perpendicular(Fdc *f)
{
    f->s.perpendicular = f->s.cmd[1];
    fdc_to_command(f);
}

static void cmd_dumpreg(Fdc *f)
{
    FdcState *s = &f->s;
    uint8_t r[10] = {s->track[0], s->track[1], s->track[2], s->track[3], s->specify[0], s->specify[1],
                     s->eot, (uint8_t)((s->lock << 7) | (s->perpendicular & 0x7F)), s->config, s->pretrk};
    fdc_result(f, r, 10, false);
}

static void cmd_invalid(Fdc *f)
{
    uint8_t r = ST0_INVALID;
    fdc_result(f, &r, 1, false);
}

typedef struct FdcCommand {
    uint8_t len; /* bytes including the opcode; 0 = invalid */
    void (*run)(Fdc *f);
} FdcCommand;

/* Indexed by the low five bits of the first byte (datasheet Table 5-1).
 * LOCK (x4h) is 14h only when the MT bit pattern is 0 or 1 in bit 7. */
static const FdcCommand fdc_commands[32] = {
    [0x03] = {3, cmd_specify},
    [0x04] = {2, cmd_sense_drive},
    [0x05] = {9, cmd_read_write},
    [0x06] = {9, cmd_read_write},
    [0x07] = {2, cmd_recalibrate},
    [0x08] = {1, cmd_sense_interrupt},
    [0x0A] = {2, cmd_read_id},
    [0x0D] = {6, cmd_format},
    [0x0E] = {1, cmd_dumpreg},
    [0x0F] = {3, cmd_seek},
    [0x10] = {1, cmd_version},
    [0x12] = {2, cmd_perpendicular},
    [0x13] = {4, cmd_configure},
    [0x14] = {1, cmd_lock},
};

/* Bits 7-5 of the opcode that each command allows (MT, MFM, SK); any other
 * bit pattern makes the byte an invalid command. */
static uint8_t allowed_high_bits(uint8_t op)
{
    switch (op) {
    case 0x05: return 0xC0;  /* MT MFM */
    case 0x06: return 0xE0;  /* MT MFM SK */
    case 0x0A: case 0x0D: return 0x40; /* MFM */
    case 0x14: return 0x80;  /* LOCK bit */
    default: return 0x00;
    }
}

static void fdc_command_byte(Fdc *f, uint8_t v)
{
    FdcState *s = &f->s;
    if (s->cmd_pos == 0) {
        uint8_t op = v & 0x1F;
        const FdcCommand *c = &fdc_commands[op];
        if (!c->run || (v & 0xE0 & ~allowed_high_bits(op))) {
            cmd_invalid(f);
            return;
        }
        s->cmd_len = c->len;
    }
    s->cmd[s->cmd_pos++] = v;
    if (s->cmd_pos < s->cmd_len)
        return;
    s->cmd_pos = 0;
    /* A new command acknowledges a completed data command's interrupt. */
    if (s->irq && !s->int_pending)
        fdc_lower(f);
    fdc_commands[s->cmd[0] & 0x1F].run(f);
}

/* ------------------------------------------------------------ reset */

/* Controller reset (DOR bit 2 low, or DSR bit 7): back to the command
 * phase; with polling enabled the chip then reports a ready change for
 * all four drives (ST0 C0h-C3h) behind one interrupt (datasheet §4). */
static void fdc_soft_reset(Fdc *f)
{
    FdcState *s = &f->s;
    s->dreq = 0;
    fdc_to_command(f);
    s->int_pending = 0;
    s->seek_busy = 0;
    s->irq = 0;
    if (!s->lock) { /* LOCK keeps CONFIGURE's EFIFO, FIFOTHR and PRETRK */
        s->config = 0x20; /* EIS off, FIFO disabled, polling on */
        s->pretrk = 0;
    }
    s->perpendicular &= 0x3C; /* GAP and WGATE clear; the per-drive bits stay */
    fdc_update_lines(f);
}

static void fdc_reset_done(Fdc *f)
{
    FdcState *s = &f->s;
    if (s->config & 0x10)
        return; /* POLL disabled: no interrupt after reset */
    for (int d = 0; d < FDC_DRIVES; d++)
        s->int_st0[d] = (uint8_t)(ST0_POLL | d);
    s->int_pending = 0x0F;
    fdc_raise(f);
}

/* ------------------------------------------------------------ ports */

static uint8_t fdc_msr(const FdcState *s)
{
    if (!(s->dor & DOR_NRESET))
        return 0;
    uint8_t busy = s->seek_busy & 0x0F;
    switch ((FdcPhase)s->phase) {
    case PH_COMMAND: return (uint8_t)(MSR_RQM | busy | (s->cmd_pos ? MSR_CB : 0));
    case PH_RESULT: return (uint8_t)(MSR_RQM | MSR_DIO | MSR_CB | busy);
    default: break;
    }
    if (!(s->specify[1] & 1))
        return (uint8_t)(MSR_CB | busy);
    uint8_t dio = s->xfer_op == OP_READ ? MSR_DIO : 0;
    return (uint8_t)(MSR_RQM | MSR_NDMA | MSR_CB | dio | busy);
}

static uint8_t fdc_fifo_read(Fdc *f)
{
    FdcState *s = &f->s;
    if (!(s->dor & DOR_NRESET))
        return 0;
    if (s->phase == PH_EXEC && (s->specify[1] & 1) && s->xfer_op == OP_READ)
        return fdc_pio_read(f);
    if (s->phase != PH_RESULT)
        return 0;
    if (s->res_pos == 0 && s->irq && !s->int_pending)
        fdc_lower(f); /* reading the result acknowledges the interrupt */
    uint8_t v = s->res[s->res_pos++];
    if (s->res_pos >= s->res_len)
        fdc_to_command(f);
    return v;
}

static void fdc_fifo_write(Fdc *f, uint8_t v)
{
    FdcState *s = &f->s;
    if (!(s->dor & DOR_NRESET))
        return;
    if (s->phase == PH_EXEC) {
        if ((s->specify[1] & 1) && s->xfer_op != OP_READ)
            fdc_pio_write(f, v);
        return;
    }
    if (s->phase == PH_RESULT)
        return; /* the host must read the result first */
    fdc_command_byte(f, v);
}

static void fdc_write_dor(Fdc *f, uint8_t v)
{
    FdcState *s = &f->s;
    uint8_t old = s->dor;
    s->dor = v;
    if (!(v & DOR_NRESET))
        fdc_soft_reset(f);
    else if (!(old & DOR_NRESET))
        fdc_reset_done(f);
    fdc_update_lines(f);
    if ((v & DOR_DMAGATE) && !(old & DOR_DMAGATE) && s->dreq && f->dma)
        isa_dma_run(f->dma);
}

static void fdc_write_dsr(Fdc *f, uint8_t v)
{
    FdcState *s = &f->s;
    s->dsr = v & 0x7F;
    s->rate = v & DSR_RATE;
    if (v & DSR_SWRESET) { /* self-clearing reset */
        fdc_soft_reset(f);
        fdc_reset_done(f);
    }
}

static uint32_t fdc_read(void *dev, uint32_t off, unsigned width)
{
    Fdc *f = dev;
    FdcState *s = &f->s;
    (void)width;
    switch (off) {
    case 2: return s->dor;
    case 3: return s->tdr;
    case 4: return fdc_msr(s);
    case 5: return fdc_fifo_read(f);
    default: return 0xFF; /* SRA/SRB exist only in PS/2 mode */
    }
}

static void fdc_write(void *dev, uint32_t off, uint32_t value, unsigned width)
{
    Fdc *f = dev;
    (void)width;
    uint8_t v = (uint8_t)value;
    switch (off) {
    case 2: fdc_write_dor(f, v); break;
    case 3: f->s.tdr = v & 0x03; break;
    case 4: fdc_write_dsr(f, v); break;
    case 5: fdc_fifo_write(f, v); break;
    default: break;
    }
}

/* DIR (read): bit 7 is the selected drive's disk change line; the other
 * bits are not driven in AT mode.  CCR (write): the data rate. */
static uint32_t fdc_dir_read(void *dev, uint32_t off, unsigned width)
{
    Fdc *f = dev;
    (void)off;
    (void)width;
    int d = f->s.dor & DOR_SEL;
    return f->bd[d] && f->s.disk_changed[d] ? 0x80 : 0x00;
}

static void fdc_ccr_write(void *dev, uint32_t off, uint32_t value, unsigned width)
{
    Fdc *f = dev;
    (void)off;
    (void)width;
    f->s.rate = value & DSR_RATE;
}

static const IoOps fdc_ops = {fdc_read, fdc_write, IO_W8, "fdc"};
static const IoOps fdc_dir_ops = {fdc_dir_read, fdc_ccr_write, IO_W8, "fdc-dir"};

/* ------------------------------------------------------------ device */

static void fdc_reset(void *dev)
{
    Fdc *f = dev;
    FdcState *s = &f->s;
    memset(s, 0, sizeof *s);
    s->dsr = RATE_250K;
    s->rate = RATE_250K;
    s->config = 0x20;
    for (int d = 0; d < FDC_DRIVES; d++)
        s->disk_changed[d] = f->bd[d] != NULL; /* no step seen since power-on */
    /* Hardware reset leaves DOR 00h: the controller is held in reset. */
    fdc_update_lines(f);
}

static void fdc_save(void *dev, StateStream *st)
{
    Fdc *f = dev;
    state_put(st, "fdc.state", &f->s, sizeof f->s);
}

static int fdc_load(void *dev, StateStream *st)
{
    Fdc *f = dev;
    FdcState s;
    if (state_get(st, "fdc.state", &s, sizeof s) < 0)
        return -1;
    if (s.phase > PH_RESULT || s.cmd_pos > sizeof s.cmd || s.cmd_len > sizeof s.cmd || s.res_len > sizeof s.res ||
        s.res_pos > s.res_len || s.sec_pos > FDC_SECTOR || s.fmt_pos > 4 || s.drive >= FDC_DRIVES)
        return -1;
    f->s = s;
    fdc_update_lines(f);
    return 0;
}

static void fdc_destroy(void *dev)
{
    Fdc *f = dev;
    if (!f)
        return;
    if (f->mapped) {
        bus_unmap_io(f->bus, FDC_BASE, 6);
        bus_unmap_io(f->bus, FDC_DIR_PORT, 1);
    }
    if (f->dma)
        isa_dma_register(f->dma, FDC_DMA_CHANNEL, NULL, NULL);
    free(f);
}

Fdc *fdc_create(Bus *bus, Clock *clk, IrqLine irq6, IsaDma *dma, struct BlockDev *drives[2])
{
    Fdc *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->bus = bus;
    f->clk = clk;
    f->irq6 = irq6;
    f->dma = dma;
    for (int d = 0; d < 2; d++) {
        f->bd[d] = drives ? drives[d] : NULL;
        f->fmt[d] = f->bd[d] ? format_for_size(f->bd[d]->size) : NULL;
    }
    if (bus_map_io(bus, FDC_BASE, 6, &fdc_ops, f) < 0) {
        free(f);
        return NULL;
    }
    if (bus_map_io(bus, FDC_DIR_PORT, 1, &fdc_dir_ops, f) < 0) {
        bus_unmap_io(bus, FDC_BASE, 6);
        free(f);
        return NULL;
    }
    f->mapped = true;
    if (dma)
        isa_dma_register(dma, FDC_DMA_CHANNEL, fdc_dma_handler, f);
    fdc_reset(f);
    return f;
}

const DeviceClass fdc_device_class = {
    .name = "fdc",
    .reset = fdc_reset,
    .save = fdc_save,
    .load = fdc_load,
    .destroy = fdc_destroy,
};
