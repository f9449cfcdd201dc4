/*
 * chipset/ide_internal.h -- private to ide.c and ide_atapi.c: the channel and
 * drive structures and the few functions the ATAPI half shares with the ATA
 * half (completion, transfers, interrupts).
 */
#ifndef VSX_CHIPSET_IDE_INTERNAL_H
#define VSX_CHIPSET_IDE_INTERNAL_H

#include "chipset/devices.h"

#define IDE_CHANNELS 2
#define IDE_DMA_CHUNK 128u          /* sectors per bus-master buffer load */
#define IDE_BUF_SIZE (IDE_DMA_CHUNK * 512u)
#define IDE_MAX_MULTIPLE 16
#define IDE_DEFAULT_HEADS 16u
#define IDE_DEFAULT_SPT 63u
#define IDE_MAX_CHS_CYLS 16383u

/* Status register (ATA-6 §7.15). */
enum {
    IDE_ST_ERR = 0x01,
    IDE_ST_DRQ = 0x08,
    IDE_ST_DSC = 0x10,
    IDE_ST_DF = 0x20,
    IDE_ST_DRDY = 0x40,
    IDE_ST_BSY = 0x80,
};

/* Error register (ATA-6 §7.11). */
enum {
    IDE_ERR_AMNF = 0x01,
    IDE_ERR_ABRT = 0x04,
    IDE_ERR_IDNF = 0x10,
    IDE_ERR_UNC = 0x40,
};

/* Device control register (ATA-6 §7.9). */
enum { IDE_CTL_NIEN = 0x02, IDE_CTL_SRST = 0x04, IDE_CTL_HOB = 0x80 };

/* Device register. */
enum { IDE_SEL_DEV = 0x10, IDE_SEL_LBA = 0x40 };

/* SET FEATURES 03h transfer mode classes (ATA-6 Table 47). */
enum { IDE_MODE_PIO = 0x08, IDE_MODE_MWDMA = 0x20, IDE_MODE_UDMA = 0x40 };

/* Bus master registers (PIIX3 BMICX / BMISX). */
enum {
    IDE_BM_CMD_START = 0x01,
    IDE_BM_CMD_WRITE = 0x08, /* 1: the controller writes memory (device to host) */
    IDE_BM_ST_ACTIVE = 0x01,
    IDE_BM_ST_ERROR = 0x02,
    IDE_BM_ST_INTR = 0x04,
};

typedef enum IdeXferKind {
    IDE_XFER_NONE = 0,
    IDE_XFER_ATA_READ,
    IDE_XFER_ATA_WRITE,
    IDE_XFER_PIO_IN,       /* one buffer to the host, then done (IDENTIFY) */
    IDE_XFER_ATAPI_PACKET, /* the 12-byte command packet from the host */
    IDE_XFER_ATAPI_IN,
    IDE_XFER_ATAPI_OUT,
    IDE_XFER_COUNT,
} IdeXferKind;

/* Everything of a drive that is plain data (saved and loaded as one blob). */
typedef struct IdeDriveState {
    uint8_t present, atapi;
    /* register file: current bytes and the previous ("HOB") ones */
    uint8_t feature, nsector, sector, lcyl, hcyl;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t select, status, error;
    uint8_t intrq;
    /* geometry: default and current CHS translation */
    uint64_t nsectors;
    uint16_t def_cyls, cur_cyls, cur_heads, cur_spt;
    uint8_t mult_sectors, xfer_mode, wcache;
    /* transfer in progress */
    uint8_t kind, to_host, dma_pending, lba48, multiple_cmd;
    uint32_t pos, end, cur_block;
    uint64_t xfer_lba;
    uint32_t xfer_left;
    /* ATAPI */
    uint8_t packet[12];
    uint8_t sense_key, asc, ascq;
    uint8_t unit_attention;      /* 0 none, else the ASC to report (28h/29h) */
    uint8_t tray_open, locked, media_event;
    uint8_t atapi_dma;
    uint16_t byte_limit;
    uint64_t cd_offset;          /* next byte: on the medium (streamed) or in buf */
    uint32_t cd_left;            /* bytes still to send */
    uint8_t cd_streaming;        /* 1: data comes from the medium, else from buf */
} IdeDriveState;

typedef struct IdeChannel IdeChannel;

typedef struct IdeDrive {
    IdeChannel *ch;
    struct BlockDev *bd;
    int index; /* channel * 2 + unit */
    IdeDriveState s;
    uint8_t *buf; /* IDE_BUF_SIZE; a buffered ATAPI reply stays in it whole */
} IdeDrive;

struct IdeChannel {
    Ide *ide;
    IrqLine irq;
    IdeDrive drive[2];
    uint8_t devctl;
    uint8_t cur; /* selected unit */
    uint8_t bm_cmd, bm_status;
    uint32_t prd_table, prd_cur, prd_addr, prd_left;
    uint8_t prd_eot;
    bool mapped;
};

struct Ide {
    Bus *bus;
    Clock *clk;
    PciDevice *pci_dev;
    IdeChannel ch[IDE_CHANNELS];
};

/* ide.c */
void ide_raise_irq(IdeDrive *d);
void ide_complete(IdeDrive *d, bool irq);
void ide_abort_with(IdeDrive *d, uint8_t error);
void ide_start_xfer(IdeDrive *d, IdeXferKind kind, uint32_t len, bool to_host, bool dma);
void ide_xfer_done(IdeDrive *d);
void ide_bm_run(IdeChannel *ch);
bool ide_disk_read(IdeDrive *d, uint64_t lba, uint8_t *buf, uint32_t count);
void ide_put_string(uint16_t *words, int first, int nwords, const char *text);
void ide_words_to_buf(uint8_t *buf, const uint16_t *words);
uint16_t ide_mode_word(uint8_t supported, uint8_t xfer_mode, uint8_t class_bits);

/* ide_atapi.c */
void ide_atapi_cmd_identify(IdeDrive *d);
void ide_atapi_cmd_packet(IdeDrive *d);
void ide_atapi_cmd_device_reset(IdeDrive *d);
void ide_atapi_packet_received(IdeDrive *d);
void ide_atapi_in_done(IdeDrive *d);
void ide_atapi_out_done(IdeDrive *d);
/* power_on: the drive's power-on state, else an ATA reset (SRST, DEVICE
 * RESET); both leave a "power on or reset" unit attention pending. */
void ide_atapi_reset(IdeDrive *d, bool power_on);

#endif
