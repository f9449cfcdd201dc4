/*
 * chipset/ide_atapi.c -- the ATAPI CD/DVD-ROM half of the IDE controller:
 * IDENTIFY PACKET DEVICE, the PACKET protocol (command packet, interrupt
 * reason, byte count limit, PIO or bus-master DMA data) and the MMC command
 * set that BIOSes, boot loaders and Linux use.
 *
 * References: T13 ATA/ATAPI-6 §8.23 (PACKET), §9.8-9.9 (packet protocols),
 * §8.16 (IDENTIFY PACKET DEVICE); SFF-8020i; T10 MMC-3 (commands, mode
 * pages, features/profiles, event status), SPC-2 (INQUIRY, REQUEST SENSE,
 * sense keys and ASC/ASCQ).
 *
 * Media are 2048-byte blocks; the BlockDev still counts 512-byte units, so
 * block n starts at BlockDev sector 4n.
 */
#include <string.h>

#include "chipset/ide_internal.h"
#include "disk/disk.h"

#define CD_BLOCK 2048u
#define CD_MAX_BLOCKS 360000u /* 80-minute CD: beyond this the medium is a DVD */

/* Interrupt reason (the sector count register during PACKET): CoD, IO. */
enum { IREASON_COD = 0x01, IREASON_IO = 0x02 };

/* Sense keys and ASC/ASCQ (SPC-2 Table 107, MMC-3 Annex F). */
enum {
    SENSE_NONE = 0x00,
    SENSE_NOT_READY = 0x02,
    SENSE_MEDIUM_ERROR = 0x03,
    SENSE_ILLEGAL_REQUEST = 0x05,
    SENSE_UNIT_ATTENTION = 0x06,
};
enum {
    ASC_UNRECOVERED_READ = 0x11,
    ASC_INVALID_OPCODE = 0x20,
    ASC_LBA_OUT_OF_RANGE = 0x21,
    ASC_INVALID_FIELD = 0x24,
    ASC_MEDIUM_CHANGED = 0x28,
    ASC_POWER_ON_RESET = 0x29,
    ASC_SAVING_NOT_SUPPORTED = 0x39,
    ASC_MEDIUM_NOT_PRESENT = 0x3A,
    ASC_REMOVAL_PREVENTED = 0x53,
};

/* GET EVENT STATUS NOTIFICATION media event codes (MMC-3 Table 117). */
enum { MEDIA_EV_NONE = 0, MEDIA_EV_EJECT_REQUEST = 1, MEDIA_EV_NEW = 2, MEDIA_EV_REMOVED = 3 };

/* ------------------------------------------------------------ helpers */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p) { return get16(p) << 16 | get16(p + 2); }

/* MSF address of a logical block: 2 seconds of lead-in (150 frames), 75
 * frames per second (MMC-3 §6.26, "MSF format"). */
static void put_msf(uint8_t *p, uint32_t lba)
{
    uint32_t f = lba + 150;
    p[0] = 0;
    p[1] = (uint8_t)(f / (75 * 60));
    p[2] = (uint8_t)((f / 75) % 60);
    p[3] = (uint8_t)(f % 75);
}

static void put_address(uint8_t *p, uint32_t lba, bool msf)
{
    if (msf)
        put_msf(p, lba);
    else
        put32(p, lba);
}

static bool has_medium(const IdeDrive *d)
{
    return d->bd && d->bd->size >= CD_BLOCK && !d->s.tray_open;
}

static uint32_t medium_blocks(const IdeDrive *d)
{
    return has_medium(d) ? (uint32_t)(d->bd->size / CD_BLOCK) : 0;
}

static bool medium_is_dvd(const IdeDrive *d) { return medium_blocks(d) > CD_MAX_BLOCKS; }

/* ------------------------------------------------------------ completion */

static void atapi_complete(IdeDrive *d)
{
    ide_complete(d, true);
    d->s.nsector = IREASON_IO | IREASON_COD;
}

/* CHECK CONDITION: sense key in the Error register's high nibble with ABRT
 * (ATA-6 §8.23.6 "Error outputs"). */
static void atapi_fail(IdeDrive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    d->s.sense_key = key;
    d->s.asc = asc;
    d->s.ascq = ascq;
    ide_abort_with(d, (uint8_t)(key << 4 | IDE_ERR_ABRT));
    d->s.nsector = IREASON_IO | IREASON_COD;
}

static void atapi_invalid_field(IdeDrive *d) { atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0); }

/* Copies `len` bytes of the medium from byte offset `off` into `out`,
 * reading whole 512-byte sectors (a bounce sector covers unaligned ends). */
static bool medium_read_bytes(IdeDrive *d, uint64_t off, uint8_t *out, uint32_t len)
{
    while (len) {
        uint64_t sector = off / DISK_SECTOR;
        uint32_t in = (uint32_t)(off % DISK_SECTOR);
        if (in == 0 && len >= DISK_SECTOR) {
            uint32_t n = len / DISK_SECTOR;
            if (!ide_disk_read(d, sector, out, n))
                return false;
            off += (uint64_t)n * DISK_SECTOR;
            out += n * DISK_SECTOR;
            len -= n * DISK_SECTOR;
            continue;
        }
        uint8_t bounce[DISK_SECTOR];
        uint32_t take = DISK_SECTOR - in < len ? DISK_SECTOR - in : len;
        if (!ide_disk_read(d, sector, bounce, 1))
            return false;
        memcpy(out, bounce + in, take);
        off += take;
        out += take;
        len -= take;
    }
    return true;
}

/* Size of the next data chunk: all of it for DMA (up to the buffer), else
 * bounded by the host's byte count limit, whole blocks when streaming
 * (ATA-6 §8.23: the limit is even; 0 is taken as the largest even value). */
static uint32_t atapi_chunk(const IdeDriveState *s)
{
    uint32_t n = s->cd_left < IDE_BUF_SIZE ? s->cd_left : IDE_BUF_SIZE;
    if (s->atapi_dma)
        return n;
    uint32_t limit = s->byte_limit ? s->byte_limit : 0xFFFE;
    if (limit == 0xFFFF)
        limit = 0xFFFE;
    if (s->cd_streaming && limit >= CD_BLOCK)
        limit -= limit % CD_BLOCK;
    else if (limit > 1)
        limit &= ~1u;
    return n < limit ? n : limit;
}

/* Presents the next data chunk to the host (PIO: DRQ, byte count, IO=1 and
 * an interrupt; DMA: the bus master drains it), or completes. */
static void atapi_send_chunk(IdeDrive *d)
{
    IdeDriveState *s = &d->s;
    if (s->cd_left == 0) {
        atapi_complete(d);
        return;
    }
    uint32_t n = atapi_chunk(s);
    uint32_t start = 0;
    if (s->cd_streaming) {
        if (!medium_read_bytes(d, s->cd_offset, d->buf, n)) {
            atapi_fail(d, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
            return;
        }
    } else {
        start = (uint32_t)s->cd_offset;
    }
    s->cd_offset += n;
    s->cd_left -= n;
    bool dma = s->atapi_dma;
    ide_start_xfer(d, IDE_XFER_ATAPI_IN, start + n, true, dma);
    s->pos = start;
    if (dma)
        return;
    s->nsector = IREASON_IO;
    s->lcyl = (uint8_t)n;
    s->hcyl = (uint8_t)(n >> 8);
    ide_raise_irq(d);
}

/* A reply built in buf[0..len), cut to the allocation length. */
static void atapi_reply(IdeDrive *d, uint32_t len, uint32_t alloc)
{
    IdeDriveState *s = &d->s;
    s->cd_streaming = 0;
    s->cd_offset = 0;
    s->cd_left = len < alloc ? len : alloc;
    atapi_send_chunk(d);
    if (s->dma_pending)
        ide_bm_run(d->ch);
}

static void atapi_stream(IdeDrive *d, uint32_t lba, uint32_t blocks)
{
    IdeDriveState *s = &d->s;
    s->cd_streaming = 1;
    s->cd_offset = (uint64_t)lba * CD_BLOCK;
    s->cd_left = blocks * CD_BLOCK;
    atapi_send_chunk(d);
    if (s->dma_pending)
        ide_bm_run(d->ch);
}

void ide_atapi_in_done(IdeDrive *d) { atapi_send_chunk(d); }

void ide_atapi_out_done(IdeDrive *d) { atapi_complete(d); }

/* Parameter data from the host (MODE SELECT): accepted and ignored. */
static void atapi_expect_out(IdeDrive *d, uint32_t len)
{
    if (len == 0) {
        atapi_complete(d);
        return;
    }
    if (len > IDE_BUF_SIZE || (!d->s.atapi_dma && len > (d->s.byte_limit ? d->s.byte_limit : 0xFFFEu))) {
        atapi_invalid_field(d);
        return;
    }
    bool dma = d->s.atapi_dma;
    ide_start_xfer(d, IDE_XFER_ATAPI_OUT, len, false, dma);
    if (dma) {
        ide_bm_run(d->ch);
        return;
    }
    d->s.nsector = 0;
    d->s.lcyl = (uint8_t)len;
    d->s.hcyl = (uint8_t)(len >> 8);
    ide_raise_irq(d);
}

/* ------------------------------------------------------------ the commands */

static void cmd_test_unit_ready(IdeDrive *d) { atapi_complete(d); }

/* Fixed-format sense data (SPC-2 §7.20.2). */
static void cmd_request_sense(IdeDrive *d)
{
    IdeDriveState *s = &d->s;
    uint8_t *b = d->buf;
    memset(b, 0, 18);
    b[0] = 0x70;
    b[7] = 10;
    if (s->unit_attention) {
        b[2] = SENSE_UNIT_ATTENTION;
        b[12] = s->unit_attention;
        s->unit_attention = 0;
    } else {
        b[2] = s->sense_key;
        b[12] = s->asc;
        b[13] = s->ascq;
    }
    s->sense_key = s->asc = s->ascq = 0;
    atapi_reply(d, 18, s->packet[4]);
}

/* Standard INQUIRY data (SPC-2 §7.3.2): a removable CD/DVD device. */
static void cmd_inquiry(IdeDrive *d)
{
    const uint8_t *p = d->s.packet;
    if (p[1] & 0x01) { /* EVPD pages are not implemented */
        atapi_invalid_field(d);
        return;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 36);
    b[0] = 0x05;  /* CD/DVD device */
    b[1] = 0x80;  /* removable */
    b[2] = 0x00;
    b[3] = 0x21;  /* ATAPI, response data format 1 */
    b[4] = 31;    /* additional length */
    memcpy(b + 8, "VSX     ", 8);
    memcpy(b + 16, "VSX CD-ROM      ", 16);
    memcpy(b + 32, "0.1 ", 4);
    atapi_reply(d, 36, get16(p + 3));
}

static void cmd_read_capacity(IdeDrive *d)
{
    put32(d->buf, medium_blocks(d) - 1);
    put32(d->buf + 4, CD_BLOCK);
    atapi_reply(d, 8, 8);
}

static bool range_ok(IdeDrive *d, uint32_t lba, uint32_t blocks)
{
    uint32_t total = medium_blocks(d);
    if (lba > total || blocks > total - lba) {
        atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return false;
    }
    return true;
}

static void do_read(IdeDrive *d, uint32_t lba, uint32_t blocks)
{
    if (!range_ok(d, lba, blocks))
        return;
    if (blocks == 0) {
        atapi_complete(d);
        return;
    }
    /* A transfer above 2^21 blocks would overflow the byte counter; no
     * real host asks for 4 GiB in one command. */
    if (blocks > (1u << 20)) {
        atapi_invalid_field(d);
        return;
    }
    atapi_stream(d, lba, blocks);
}

static void cmd_read10(IdeDrive *d) { do_read(d, get32(d->s.packet + 2), get16(d->s.packet + 7)); }
static void cmd_read12(IdeDrive *d) { do_read(d, get32(d->s.packet + 2), get32(d->s.packet + 6)); }

/* READ CD (MMC-3 §6.19): only user data of data sectors (byte 9 = 10h), or
 * nothing at all (00h). */
static void cmd_read_cd(IdeDrive *d)
{
    const uint8_t *p = d->s.packet;
    uint32_t blocks = (uint32_t)p[6] << 16 | get16(p + 7);
    uint8_t type = (p[1] >> 2) & 7;
    if (type > 2) { /* only "any" and Mode 1 sectors exist on a data disc */
        atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    if (p[9] == 0x00) {
        if (range_ok(d, get32(p + 2), blocks))
            atapi_complete(d);
        return;
    }
    if (p[9] != 0x10) {
        atapi_invalid_field(d);
        return;
    }
    do_read(d, get32(p + 2), blocks);
}

static void cmd_seek(IdeDrive *d)
{
    if (get32(d->s.packet + 2) >= medium_blocks(d))
        atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
    else
        atapi_complete(d);
}

/* READ TOC/PMA/ATIP formats 0 (TOC), 1 (session info), 2 (full TOC) for a
 * single-session disc with one data track (MMC-3 §6.25). */
static uint32_t toc_format0(IdeDrive *d, uint8_t *b, bool msf, uint8_t start)
{
    uint32_t n = 4;
    if (start <= 1) {
        memset(b + n, 0, 8);
        b[n + 1] = 0x14; /* ADR 1, control: data track */
        b[n + 2] = 1;
        put_address(b + n + 4, 0, msf);
        n += 8;
    }
    memset(b + n, 0, 8);
    b[n + 1] = 0x14;
    b[n + 2] = 0xAA; /* lead-out */
    put_address(b + n + 4, medium_blocks(d), msf);
    n += 8;
    b[2] = 1;
    b[3] = 1;
    return n;
}

static uint32_t toc_format1(uint8_t *b, bool msf)
{
    memset(b + 4, 0, 8);
    b[2] = 1;
    b[3] = 1;
    b[5] = 0x14;
    b[6] = 1;
    put_address(b + 8, 0, msf);
    return 12;
}

static uint32_t toc_full_entry(uint8_t *b, uint8_t point, uint8_t pmin, uint8_t psec, uint8_t pframe)
{
    memset(b, 0, 11);
    b[0] = 1;    /* session */
    b[1] = 0x14; /* ADR 1, data */
    b[3] = point;
    b[8] = pmin;
    b[9] = psec;
    b[10] = pframe;
    return 11;
}

static uint32_t toc_format2(IdeDrive *d, uint8_t *b)
{
    uint8_t leadout[4], track1[4];
    put_msf(leadout, medium_blocks(d));
    put_msf(track1, 0);
    uint32_t n = 4;
    b[2] = 1;
    b[3] = 1;
    n += toc_full_entry(b + n, 0xA0, 1, 0x00, 0);  /* first track, disc type CD-ROM */
    n += toc_full_entry(b + n, 0xA1, 1, 0, 0);     /* last track */
    n += toc_full_entry(b + n, 0xA2, leadout[1], leadout[2], leadout[3]);
    n += toc_full_entry(b + n, 1, track1[1], track1[2], track1[3]);
    return n;
}

static void cmd_read_toc(IdeDrive *d)
{
    const uint8_t *p = d->s.packet;
    bool msf = (p[1] & 0x02) != 0;
    uint8_t format = p[2] & 0x0F;
    if (format == 0 && (p[9] >> 6))
        format = p[9] >> 6; /* SFF-8020i put the format in the control byte */
    uint8_t *b = d->buf;
    uint32_t n;
    switch (format) {
    case 0:
        if (p[6] > 1 && p[6] != 0xAA) {
            atapi_invalid_field(d);
            return;
        }
        n = toc_format0(d, b, msf, p[6]);
        break;
    case 1: n = toc_format1(b, msf); break;
    case 2: n = toc_format2(d, b); break;
    default:
        atapi_invalid_field(d);
        return;
    }
    put16(b, n - 2);
    atapi_reply(d, n, get16(p + 7));
}

/* ---- mode pages (MMC-3 §7) */

static uint32_t page_error_recovery(IdeDrive *d, uint8_t *b)
{
    (void)d;
    static const uint8_t pg[8] = {0x01, 0x06, 0x00, 0x05, 0, 0, 0, 0};
    memcpy(b, pg, sizeof pg);
    return sizeof pg;
}

static uint32_t page_cd_parameters(IdeDrive *d, uint8_t *b)
{
    (void)d;
    static const uint8_t pg[8] = {0x0D, 0x06, 0x00, 0x00, 0x00, 60, 0x00, 75};
    memcpy(b, pg, sizeof pg);
    return sizeof pg;
}

static uint32_t page_audio_control(IdeDrive *d, uint8_t *b)
{
    (void)d;
    static const uint8_t pg[16] = {0x0E, 0x0E, 0x04, 0, 0, 0, 0, 75, 0x01, 0xFF, 0x02, 0xFF, 0, 0, 0, 0};
    memcpy(b, pg, sizeof pg);
    return sizeof pg;
}

/* CD/DVD capabilities and mechanical status (MMC-3 §7.8 / SFF-8020i). */
static uint32_t page_capabilities(IdeDrive *d, uint8_t *b)
{
    memset(b, 0, 22);
    b[0] = 0x2A;
    b[1] = 20;
    b[2] = 0x0B;       /* reads CD-R, CD-RW, DVD-ROM */
    b[4] = 0x70;       /* multisession, Mode 2 Form 1 and 2 */
    b[5] = 0x00;
    b[6] = (uint8_t)(0x20 | 0x08 | 0x01 | (d->s.locked ? 0x02 : 0)); /* tray, eject, lock */
    put16(b + 8, 16 * 176);  /* maximum read speed, kB/s */
    put16(b + 12, 512);      /* buffer size, KiB */
    put16(b + 14, 16 * 176); /* current read speed */
    return 22;
}

typedef struct ModePage {
    uint8_t code;
    uint32_t (*build)(IdeDrive *d, uint8_t *b);
} ModePage;

static const ModePage mode_pages[] = {
    {0x01, page_error_recovery},
    {0x0D, page_cd_parameters},
    {0x0E, page_audio_control},
    {0x2A, page_capabilities},
};

/* Builds the requested page(s) at b; returns the length, 0 if unknown. */
static uint32_t build_mode_pages(IdeDrive *d, uint8_t *b, uint8_t code, bool changeable)
{
    uint32_t n = 0;
    for (size_t i = 0; i < sizeof mode_pages / sizeof mode_pages[0]; i++) {
        if (code != 0x3F && code != mode_pages[i].code)
            continue;
        uint32_t len = mode_pages[i].build(d, b + n);
        if (changeable) /* nothing is changeable: a mask of zeros */
            memset(b + n + 2, 0, len - 2);
        n += len;
    }
    return n;
}

static void do_mode_sense(IdeDrive *d, bool ten)
{
    const uint8_t *p = d->s.packet;
    uint8_t pc = p[2] >> 6, code = p[2] & 0x3F;
    if (pc == 3) {
        atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
        return;
    }
    uint32_t hdr = ten ? 8 : 4;
    uint8_t *b = d->buf;
    memset(b, 0, hdr);
    uint32_t n = build_mode_pages(d, b + hdr, code, pc == 1);
    if (n == 0) {
        atapi_invalid_field(d);
        return;
    }
    n += hdr;
    uint8_t medium = has_medium(d) ? 0x01 : 0x70; /* 120 mm data disc / door open */
    if (ten) {
        put16(b, n - 2);
        b[2] = medium;
        atapi_reply(d, n, get16(p + 7));
    } else {
        b[0] = (uint8_t)(n - 1);
        b[1] = medium;
        atapi_reply(d, n, p[4]);
    }
}

static void cmd_mode_sense10(IdeDrive *d) { do_mode_sense(d, true); }
static void cmd_mode_sense6(IdeDrive *d) { do_mode_sense(d, false); }
static void cmd_mode_select10(IdeDrive *d) { atapi_expect_out(d, get16(d->s.packet + 7)); }
static void cmd_mode_select6(IdeDrive *d) { atapi_expect_out(d, d->s.packet[4]); }

/* ---- GET CONFIGURATION (MMC-3 §6.6, §5.2-5.3 features) */

static uint32_t feature_header(uint8_t *b, uint16_t code, uint8_t flags, uint8_t len)
{
    put16(b, code);
    b[2] = flags;
    b[3] = len;
    memset(b + 4, 0, len);
    return 4u + len;
}

static uint32_t build_features(IdeDrive *d, uint8_t *b, uint16_t start, uint8_t rt)
{
    bool dvd = medium_is_dvd(d), media = has_medium(d);
    uint8_t cur_cd = media && !dvd, cur_dvd = media && dvd;
    uint32_t n = 0;
    uint8_t *f;
    /* Feature list: code, "current", builder data. */
    struct { uint16_t code; uint8_t current; } feats[] = {
        {0x0000, 1}, {0x0001, 1}, {0x0003, 1}, {0x0010, media}, {0x001E, cur_cd}, {0x001F, cur_dvd},
    };
    for (size_t i = 0; i < sizeof feats / sizeof feats[0]; i++) {
        uint16_t code = feats[i].code;
        if (code < start || (rt == 1 && !feats[i].current) || (rt == 2 && code != start))
            continue;
        f = b + n;
        uint8_t flags = (uint8_t)(0x02 | feats[i].current); /* persistent */
        switch (code) {
        case 0x0000: /* profile list: DVD-ROM, CD-ROM */
            n += feature_header(f, code, 0x03, 8);
            put16(f + 4, 0x0010);
            f[6] = cur_dvd;
            put16(f + 8, 0x0008);
            f[10] = cur_cd;
            break;
        case 0x0001: /* core: ATAPI */
            n += feature_header(f, code, 0x07, 8);
            put32(f + 4, 2);
            break;
        case 0x0003: /* removable medium: tray, eject, lock */
            n += feature_header(f, code, 0x03, 4);
            f[4] = (uint8_t)(0x20 | 0x08 | 0x01 | (d->s.locked ? 0x04 : 0));
            break;
        case 0x0010: /* random readable */
            n += feature_header(f, code, flags, 8);
            put32(f + 4, CD_BLOCK);
            put16(f + 8, 1);
            break;
        default: /* CD read, DVD read */
            n += feature_header(f, code, (uint8_t)(flags | (code == 0x1E ? 0x08 : 0)), code == 0x1E ? 4 : 0);
            break;
        }
    }
    return n;
}

static void cmd_get_configuration(IdeDrive *d)
{
    const uint8_t *p = d->s.packet;
    uint8_t rt = p[1] & 3;
    if (rt == 3) {
        atapi_invalid_field(d);
        return;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 8);
    uint16_t profile = has_medium(d) ? (medium_is_dvd(d) ? 0x0010 : 0x0008) : 0;
    put16(b + 6, profile);
    uint32_t n = 8 + build_features(d, b + 8, (uint16_t)get16(p + 2), rt);
    put32(b, n - 4);
    atapi_reply(d, n, get16(p + 7));
}

/* GET EVENT STATUS NOTIFICATION, polled only; media class (MMC-3 §6.5). */
static void cmd_get_event_status(IdeDrive *d)
{
    const uint8_t *p = d->s.packet;
    if (!(p[1] & 0x01)) { /* asynchronous notification is not supported */
        atapi_invalid_field(d);
        return;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 8);
    b[3] = 0x10; /* supported classes: media */
    uint32_t n = 4;
    if (p[4] & 0x10) {
        b[2] = 0x04; /* media class */
        b[4] = d->s.media_event;
        b[5] = (uint8_t)((d->s.tray_open ? 0x01 : 0) | (has_medium(d) ? 0x02 : 0));
        d->s.media_event = MEDIA_EV_NONE;
        n = 8;
    } else {
        b[2] = 0x80; /* NEA: no requested class is supported */
    }
    put16(b, n - 2);
    atapi_reply(d, n, get16(p + 7));
}

/* START STOP UNIT: LoEj with Start=0 ejects, with Start=1 loads (MMC-3
 * §6.38); a prevented medium cannot be ejected (02h/53h/02h). */
static void cmd_start_stop(IdeDrive *d)
{
    uint8_t op = d->s.packet[4] & 0x03;
    if (op == 0x02) {
        if (d->s.locked) {
            atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
            return;
        }
        if (!d->s.tray_open && d->bd)
            d->s.media_event = MEDIA_EV_REMOVED;
        d->s.tray_open = 1;
    } else if (op == 0x03 && d->s.tray_open) {
        d->s.tray_open = 0;
        if (d->bd) {
            d->s.media_event = MEDIA_EV_NEW;
            d->s.unit_attention = ASC_MEDIUM_CHANGED;
        }
    }
    atapi_complete(d);
}

static void cmd_prevent_allow(IdeDrive *d)
{
    d->s.locked = d->s.packet[4] & 0x01;
    atapi_complete(d);
}

/* READ DISC INFORMATION: a complete, finalized single-session disc. */
static void cmd_read_disc_info(IdeDrive *d)
{
    const uint8_t *p = d->s.packet;
    if (p[1] & 0x07) { /* only the standard disc information type */
        atapi_invalid_field(d);
        return;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 34);
    put16(b, 32);
    b[2] = 0x0E; /* last session complete, disc complete */
    b[3] = 1;    /* first track */
    b[4] = 1;    /* sessions */
    b[5] = 1;    /* first track in last session */
    b[6] = 1;    /* last track in last session */
    b[7] = 0x20; /* unrestricted use */
    memset(b + 16, 0xFF, 8); /* no lead-in / lead-out start times (not CD-R) */
    atapi_reply(d, 34, get16(p + 7));
}

/* READ TRACK INFORMATION for the one data track (MMC-3 §6.27): by LBA
 * (type 0), track number (1) or session number (2). */
static void cmd_read_track_info(IdeDrive *d)
{
    const uint8_t *p = d->s.packet;
    uint8_t type = p[1] & 0x03;
    uint32_t addr = get32(p + 2);
    uint32_t blocks = medium_blocks(d);
    bool ok = (type == 0 && addr < blocks) || (type == 1 && (addr == 1 || addr == 0xFF)) ||
              (type == 2 && addr == 1);
    if (!ok) {
        atapi_invalid_field(d);
        return;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 36);
    put16(b, 34);
    b[2] = 1;    /* track number */
    b[3] = 1;    /* session number */
    b[5] = 0x04; /* data track, recorded uninterrupted */
    b[6] = 0x01; /* data mode 1 */
    put32(b + 8, 0);
    put32(b + 24, blocks);
    atapi_reply(d, 36, get16(p + 7));
}

static void cmd_mechanism_status(IdeDrive *d)
{
    uint8_t *b = d->buf;
    memset(b, 0, 8);
    b[1] = d->s.tray_open ? 0x10 : 0x00; /* door open */
    atapi_reply(d, 8, get16(d->s.packet + 8));
}

static void cmd_nop_ok(IdeDrive *d) { atapi_complete(d); }

/* ------------------------------------------------------------ dispatch */

enum {
    F_UA_OK = 1 << 0, /* runs (and keeps the unit attention) while one is pending */
    F_MEDIUM = 1 << 1 /* NOT READY without a medium */
};

typedef struct AtapiCommand {
    void (*fn)(IdeDrive *d);
    uint8_t flags;
} AtapiCommand;

static const AtapiCommand atapi_commands[256] = {
    [0x00] = {cmd_test_unit_ready, F_MEDIUM},
    [0x03] = {cmd_request_sense, F_UA_OK},
    [0x12] = {cmd_inquiry, F_UA_OK},
    [0x15] = {cmd_mode_select6, 0},
    [0x1A] = {cmd_mode_sense6, 0},
    [0x1B] = {cmd_start_stop, 0},
    [0x1E] = {cmd_prevent_allow, 0},
    [0x25] = {cmd_read_capacity, F_MEDIUM},
    [0x28] = {cmd_read10, F_MEDIUM},
    [0x2B] = {cmd_seek, F_MEDIUM},
    [0x43] = {cmd_read_toc, F_MEDIUM},
    [0x46] = {cmd_get_configuration, F_UA_OK},
    [0x4A] = {cmd_get_event_status, F_UA_OK},
    [0x51] = {cmd_read_disc_info, F_MEDIUM},
    [0x52] = {cmd_read_track_info, F_MEDIUM},
    [0x55] = {cmd_mode_select10, 0},
    [0x5A] = {cmd_mode_sense10, 0},
    [0xA8] = {cmd_read12, F_MEDIUM},
    [0xBB] = {cmd_nop_ok, 0}, /* SET CD SPEED */
    [0xBD] = {cmd_mechanism_status, 0},
    [0xBE] = {cmd_read_cd, F_MEDIUM},
};

/* The 12-byte packet has arrived: check unit attention and medium, then
 * run the command (SPC-2 §5.6.5 for which commands report a UA). */
void ide_atapi_packet_received(IdeDrive *d)
{
    IdeDriveState *s = &d->s;
    memcpy(s->packet, d->buf, sizeof s->packet);
    s->kind = IDE_XFER_NONE;
    s->pos = s->end = 0;
    uint8_t op = s->packet[0];
    const AtapiCommand *c = &atapi_commands[op];
    if (!c->fn) {
        atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        return;
    }
    if (s->unit_attention && !(c->flags & F_UA_OK)) {
        uint8_t asc = s->unit_attention;
        s->unit_attention = 0;
        atapi_fail(d, SENSE_UNIT_ATTENTION, asc, 0);
        return;
    }
    if (op != 0x03)
        s->sense_key = s->asc = s->ascq = 0;
    if ((c->flags & F_MEDIUM) && !has_medium(d)) {
        atapi_fail(d, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, s->tray_open ? 0x02 : 0x01);
        return;
    }
    c->fn(d);
}

/* PACKET (A0h): DRQ with CoD=1, IO=0 for the command packet; no interrupt,
 * as IDENTIFY PACKET DEVICE word 0 announces (accelerated DRQ). */
void ide_atapi_cmd_packet(IdeDrive *d)
{
    IdeDriveState *s = &d->s;
    s->atapi_dma = s->feature & 0x01;
    s->byte_limit = (uint16_t)(s->lcyl | s->hcyl << 8);
    ide_start_xfer(d, IDE_XFER_ATAPI_PACKET, sizeof s->packet, false, false);
    s->nsector = IREASON_COD;
}

/* IDENTIFY PACKET DEVICE (ATA-6 §8.16). */
void ide_atapi_cmd_identify(IdeDrive *d)
{
    uint16_t w[256] = {0};
    char serial[24];
    snprintf(serial, sizeof serial, "VSXCD%04d", d->index);
    w[0] = 0x85C0; /* ATAPI, CD-ROM, removable, accelerated DRQ, 12-byte packets */
    ide_put_string(w, 10, 10, serial);
    ide_put_string(w, 23, 4, "0.1");
    ide_put_string(w, 27, 20, "VSX CD-ROM");
    w[49] = 0x0B00; /* IORDY, LBA, DMA */
    w[50] = 0x4000;
    w[51] = 0x0200;
    w[53] = 0x0006; /* words 64-70 and 88 valid */
    w[63] = ide_mode_word(0x07, d->s.xfer_mode, IDE_MODE_MWDMA);
    w[64] = 0x0003;
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x007E;
    w[82] = 0x0210; /* DEVICE RESET, PACKET */
    w[83] = 0x4000;
    w[84] = 0x4000;
    w[85] = 0x0210;
    w[87] = 0x4000;
    w[88] = ide_mode_word(0x3F, d->s.xfer_mode, IDE_MODE_UDMA);
    w[93] = d->index & 1 ? 0x6B00 : 0x600B;
    ide_words_to_buf(d->buf, w);
    ide_start_xfer(d, IDE_XFER_PIO_IN, 512, true, false);
    ide_raise_irq(d);
}

void ide_atapi_reset(IdeDrive *d, bool power_on)
{
    IdeDriveState *s = &d->s;
    if (power_on) {
        s->tray_open = 0;
        s->locked = 0;
        s->media_event = d->bd ? MEDIA_EV_NEW : MEDIA_EV_NONE;
    }
    s->sense_key = s->asc = s->ascq = 0;
    s->unit_attention = ASC_POWER_ON_RESET;
    s->cd_left = 0;
    s->cd_streaming = 0;
}

/* DEVICE RESET (08h): signature, no interrupt (ATA-6 §8.7). */
void ide_atapi_cmd_device_reset(IdeDrive *d)
{
    IdeDriveState *s = &d->s;
    s->nsector = s->sector = 1;
    s->lcyl = 0x14;
    s->hcyl = 0xEB;
    s->error = 0x01;
    s->status = 0;
    s->kind = IDE_XFER_NONE;
    s->pos = s->end = 0;
    s->dma_pending = 0;
    ide_atapi_reset(d, false);
}
