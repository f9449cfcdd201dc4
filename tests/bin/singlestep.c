/*
 * tests/bin/singlestep.c -- runs the 80286 real-mode single-instruction
 * vectors (../shared/singlestep, see its README.md) against the vsx core.
 *
 *   singlestep [-d VECTORDIR] [-m MODEL] [-v] [FILTER...]
 *
 * For every vector: load initial registers and RAM, execute the instruction
 * and then the HLT the recorder placed after it (see run_vector), then
 * compare every register and every final.ram byte.  FLAGS are
 * compared under metadata.json's flags-mask (flags the 286 leaves undefined).
 *
 * vsx models the 486 and later; where a 286 and a 386+ legitimately differ the
 * difference is a named rule below, with its manual reference, and every
 * vector that passes only thanks to a rule is counted under that rule.
 *
 * Output: one line per opcode group,
 *   PASS singlestep.OP[.R]: N/N            (normal/alias opcodes)
 *   FAIL singlestep.OP[.R]: K/N (first failure: ...)  + diff on following lines
 *   SKIP singlestep.OP[.R]: reason          (fpu, undefined, undocumented not
 *                                            passing, prefix-only groups)
 * then a summary table and the rule counts.  Exit status 1 if any FAIL.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "chipset/chipset.h"
#include "cpu/cpu.h"

/* ------------------------------------------------------------------ JSON */
/* A tiny DOM: arrays, objects, numbers (integers), strings; enough for the
 * vector files and metadata.json. */
typedef enum { J_NULL, J_NUM, J_STR, J_ARR, J_OBJ } JType;
typedef struct JNode {
    JType type;
    int64_t num;
    const char *str; /* J_STR: NUL-terminated (in place); object keys too */
    const char *key; /* member name when the parent is an object */
    int first, next; /* child list (indices, -1 = none) */
    int count;
} JNode;

typedef struct Json {
    char *text;
    size_t len, pos;
    JNode *nodes;
    int n, cap;
    char err[128];
} Json;

static int j_new(Json *j, JType t)
{
    if (j->n == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 4096;
        JNode *p = realloc(j->nodes, (size_t)j->cap * sizeof *p);
        if (!p)
            return -1;
        j->nodes = p;
    }
    j->nodes[j->n] = (JNode){.type = t, .first = -1, .next = -1};
    return j->n++;
}

static void j_ws(Json *j)
{
    while (j->pos < j->len && isspace((unsigned char)j->text[j->pos]))
        j->pos++;
}

static int j_value(Json *j, int depth);

static char *j_string(Json *j)
{
    /* In-place: the closing quote becomes NUL.  Escapes are kept verbatim
     * except \" and \\ (the data has no others that matter). */
    char *start = &j->text[++j->pos], *out = start;
    while (j->pos < j->len && j->text[j->pos] != '"') {
        char c = j->text[j->pos++];
        if (c == '\\' && j->pos < j->len)
            c = j->text[j->pos++];
        *out++ = c;
    }
    if (j->pos >= j->len)
        return NULL;
    *out = 0;
    j->pos++;
    return start;
}

static int j_container(Json *j, JType t, char close, int depth)
{
    int me = j_new(j, t), last = -1;
    if (me < 0)
        return -1;
    j->pos++;
    j_ws(j);
    if (j->pos < j->len && j->text[j->pos] == close) {
        j->pos++;
        return me;
    }
    for (;;) {
        const char *key = NULL;
        j_ws(j);
        if (t == J_OBJ) {
            if (j->pos >= j->len || j->text[j->pos] != '"' || !(key = j_string(j)))
                return -1;
            j_ws(j);
            if (j->pos >= j->len || j->text[j->pos++] != ':')
                return -1;
        }
        int c = j_value(j, depth + 1);
        if (c < 0)
            return -1;
        j->nodes[c].key = key;
        if (last < 0)
            j->nodes[me].first = c;
        else
            j->nodes[last].next = c;
        last = c;
        j->nodes[me].count++;
        j_ws(j);
        if (j->pos >= j->len)
            return -1;
        char d = j->text[j->pos++];
        if (d == close)
            return me;
        if (d != ',')
            return -1;
    }
}

static int j_value(Json *j, int depth)
{
    j_ws(j);
    if (j->pos >= j->len || depth > 64)
        return -1;
    char c = j->text[j->pos];
    if (c == '[')
        return j_container(j, J_ARR, ']', depth);
    if (c == '{')
        return j_container(j, J_OBJ, '}', depth);
    if (c == '"') {
        int me = j_new(j, J_STR);
        if (me < 0)
            return -1;
        const char *s = j_string(j);
        if (!s)
            return -1;
        j->nodes[me].str = s;
        return me;
    }
    if (c == '-' || isdigit((unsigned char)c)) {
        int me = j_new(j, J_NUM);
        if (me < 0)
            return -1;
        char *end;
        j->nodes[me].num = strtoll(&j->text[j->pos], &end, 10);
        if (*end == '.' || *end == 'e' || *end == 'E') /* not needed: skip */
            (void)strtod(&j->text[j->pos], &end);
        j->pos = (size_t)(end - j->text);
        return me;
    }
    if (!strncmp(&j->text[j->pos], "null", 4) || !strncmp(&j->text[j->pos], "true", 4)) {
        j->pos += 4;
        return j_new(j, J_NULL);
    }
    if (!strncmp(&j->text[j->pos], "false", 5)) {
        j->pos += 5;
        return j_new(j, J_NULL);
    }
    return -1;
}

static char *read_gz(const char *path, size_t *len)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    for (int r; buf; n += (size_t)r) {
        if (n == cap) {
            char *p = realloc(buf, (cap *= 2) + 1);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
        }
        r = gzread(f, buf + n, (unsigned)(cap - n));
        if (r <= 0)
            break;
    }
    gzclose(f);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

/* Parses a (possibly gzipped) file; root node is index 0. */
static int json_load(Json *j, const char *path)
{
    memset(j, 0, sizeof *j);
    j->text = read_gz(path, &j->len);
    if (!j->text)
        return -1;
    if (j_value(j, 0) != 0) {
        snprintf(j->err, sizeof j->err, "JSON syntax error near byte %zu", j->pos);
        return -1;
    }
    return 0;
}

static void json_free(Json *j)
{
    free(j->text);
    free(j->nodes);
}

static int j_get(const Json *j, int obj, const char *key)
{
    if (obj < 0 || j->nodes[obj].type != J_OBJ)
        return -1;
    for (int c = j->nodes[obj].first; c >= 0; c = j->nodes[c].next)
        if (!strcmp(j->nodes[c].key, key))
            return c;
    return -1;
}

static int j_at(const Json *j, int arr, int i)
{
    if (arr < 0)
        return -1;
    int c = j->nodes[arr].first;
    while (c >= 0 && i-- > 0)
        c = j->nodes[c].next;
    return c;
}

static int64_t j_num(const Json *j, int n, int64_t dflt)
{
    return n >= 0 && j->nodes[n].type == J_NUM ? j->nodes[n].num : dflt;
}

static const char *j_str(const Json *j, int n)
{
    return n >= 0 && j->nodes[n].type == J_STR ? j->nodes[n].str : NULL;
}

/* ---------------------------------------------------------- 286 vs 386+ */
/* Rules: differences between the recording 80286 and the 486-class core
 * that are architecture, not bugs.  Each vector that needs one is counted. */
enum {
    RULE_FLAGS_HI,   /* FLAGS bits 12-15 */
    RULE_STACK_SS,   /* stack-segment limit fault vector */
    RULE_LOCK_UD,    /* LOCK on a non-lockable instruction */
    RULE_FS_GS,      /* 8C/8E with sreg 4/5 */
    RULE_SHIFT_FLAGS,/* OF/CF undefined for shift counts the metadata misses */
    RULE_INSN_LENGTH,/* 10-byte instruction limit on the 286 */
    RULE_RESTART,    /* 286 commits registers before some faults */
    RULE_IDIV,       /* IDIV quotient overflow */
    RULE_COUNT
};
static const struct {
    const char *name, *what;
} rule_info[RULE_COUNT] = {
    [RULE_FLAGS_HI] = {"flags-12-15",
                       "FLAGS bits 12-15 (IOPL, NT, bit 15): the 286 in real mode always stores "
                       "and pushes them as 0; the 386+ keeps IOPL/NT writable in real mode. "
                       "Bits 12-15 are not compared (Intel SDM Vol. 3, ch. 'Architecture "
                       "Compatibility', EFLAGS/PUSHF differences; Vol. 1 §3.4.3)"},
    [RULE_STACK_SS] = {"stack-limit-#SS",
                       "a stack access past offset 0xFFFF raises interrupt 13 on the 286 but "
                       "#SS (interrupt 12) on the 386+ (Intel SDM Vol. 2, 'Real-Address Mode "
                       "Exceptions' of PUSH/POP/CALL/RET/LEAVE/PUSHA/POPA and stack-addressed "
                       "operands: '#SS if a memory operand effective address is outside the SS "
                       "segment limit')"},
    [RULE_LOCK_UD] = {"lock-#UD",
                      "LOCK before an instruction that is not a locked read-modify-write of "
                      "memory is ignored by the 286 but raises #UD on the 386+ (Intel SDM Vol. "
                      "2A, LOCK: 'An undefined opcode exception will also be generated if the "
                      "LOCK prefix is used with any instruction not in the above list')"},
    [RULE_FS_GS] = {"fs-gs",
                    "MOV to/from segment register 4/5 is #UD on the 286 but is FS/GS on the "
                    "386+ (Intel SDM Vol. 2B, MOV -- Move to/from Segment Registers)"},
    [RULE_SHIFT_FLAGS] = {"shift-flags",
                          "OF is undefined after shifts/rotates whose masked count is not 1, and CF "
                          "after SHL/SHR by at least the operand width (Intel SDM Vol. 2B "
                          "SAL/SAR/SHL/SHR and RCL/RCR/ROL/ROR 'Flags Affected'); the metadata "
                          "does not mask them for every form"},
    [RULE_INSN_LENGTH] = {"insn-length",
                          "the 286 raises #GP for an instruction longer than 10 bytes (80286 PRM); "
                          "the 386+ limit is 15 bytes (Intel SDM Vol. 2A §2.1, 'Instruction Format'): the core must "
                          "execute it -- checked: no fault, IP past it or at the far target"},
    [RULE_RESTART] = {"restartable-fault",
                      "where the 286 commits SI/DI (word string ops), SP (POP m16) or flags (AAM 0) "
                      "before faulting, a 386+ fault reports the state before the instruction "
                      "(Intel SDM Vol. 3A §6.5 'Exception Classifications': faults are restartable; "
                      "REP strings keep only the completed iterations, Vol. 2B REP) -- checked: "
                      "same vector (#SS allowed for REP), registers/flags unchanged or exactly n "
                      "completed iterations, frame correct"},
    [RULE_IDIV] = {"idiv-overflow",
                   "IDIV with a quotient that does not fit the destination must raise #DE (Intel "
                   "SDM Vol. 2A IDIV); the recording 286 returned a result for such operands"},
};

/* ------------------------------------------------------------- runner */
typedef struct Regs16 {
    uint16_t v[14];
} Regs16;
enum { R_AX, R_BX, R_CX, R_DX, R_CS, R_SS, R_DS, R_ES, R_SP, R_BP, R_SI, R_DI, R_IP, R_FLAGS };
static const char *const reg_names[14] = {"ax", "bx", "cx", "dx", "cs", "ss", "ds",
                                          "es", "sp", "bp", "si", "di", "ip", "flags"};

typedef struct Runner {
    Bus *bus;
    Clock *clk;
    Cpu *cpu;
    uint8_t *vga_hole; /* RAM mapped over 0xA0000-0xBFFFF: the 286 rig had RAM there */
    const char *model;
    int verbose;
    long rule_hits[RULE_COUNT];
    char diff[4096];
    size_t difflen;
} Runner;

static void difff(Runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void difff(Runner *r, const char *fmt, ...)
{
    if (r->difflen >= sizeof r->diff - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->diff + r->difflen, sizeof r->diff - r->difflen, fmt, ap);
    va_end(ap);
    if (n > 0)
        r->difflen += (size_t)n;
    if (r->difflen > sizeof r->diff - 1)
        r->difflen = sizeof r->diff - 1;
}

static int runner_init(Runner *r, const char *model, VsxError *err)
{
    memset(r, 0, sizeof *r);
    r->model = model;
    /* 1 MiB + 64 KiB: the 286 has 24 address lines, so FFFF:FFFF reaches
     * 0x10FFEF and does not wrap (vectors use CS=FFFF with addresses above
     * 1 MiB).  A20 therefore stays enabled. */
    r->bus = bus_create(0x110000, err);
    if (!r->bus)
        return -1;
    bus_set_shadow(r->bus, 0xC0000, 0x40000, true, true);
    r->vga_hole = calloc(1, 0x20000);
    if (!r->vga_hole || bus_map_ram(r->bus, 0xA0000, 0x20000, r->vga_hole, false) < 0)
        return vsx_errorf(err, "cannot map RAM at 0xA0000");
    r->clk = clock_create(CLOCK_VIRTUAL);
    if (!r->clk)
        return vsx_errorf(err, "cannot create clock");
    r->cpu = cpu_create(r->bus, r->clk, model, err);
    return r->cpu ? 0 : -1;
}

static void runner_free(Runner *r)
{
    cpu_destroy(r->cpu);
    clock_destroy(r->clk);
    bus_destroy(r->bus);
    free(r->vga_hole);
}

static void load_regs(const Json *j, int obj, Regs16 *out)
{
    for (int i = 0; i < 14; i++) {
        int n = j_get(j, obj, reg_names[i]);
        if (n >= 0)
            out->v[i] = (uint16_t)j_num(j, n, 0);
    }
}

static void real_seg(CpuSegment *s, uint16_t sel, bool code)
{
    s->selector = sel;
    s->base = (uint64_t)sel << 4;
    s->limit = 0xFFFF;
    s->flags = code ? 0x9B : 0x93; /* present, S=1, accessed; code RX / data RW */
}

static void set_cpu(Runner *r, const Regs16 *in)
{
    CpuRegs cr;
    cpu_reset(r->cpu);
    cpu_get_regs(r->cpu, &cr);
    static const int gprs[8] = {R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI};
    for (int i = 0; i < 8; i++)
        cr.gpr[i] = in->v[gprs[i]];
    cr.rip = in->v[R_IP];
    cr.rflags = (in->v[R_FLAGS] & 0x7FD7u) | 2u; /* bit 15 and bits 3, 5 are reserved 0 on the 386+ */
    real_seg(&cr.seg[SEG_CS], in->v[R_CS], true);
    real_seg(&cr.seg[SEG_SS], in->v[R_SS], false);
    real_seg(&cr.seg[SEG_DS], in->v[R_DS], false);
    real_seg(&cr.seg[SEG_ES], in->v[R_ES], false);
    real_seg(&cr.seg[SEG_FS], 0, false);
    real_seg(&cr.seg[SEG_GS], 0, false);
    cr.idtr_base = 0;
    cr.idtr_limit = 0x3FF;
    cr.halted = false;
    cpu_set_regs(r->cpu, &cr);
}

static void get_cpu(Runner *r, Regs16 *out)
{
    CpuRegs cr;
    cpu_get_regs(r->cpu, &cr);
    static const int gprs[8] = {R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI};
    for (int i = 0; i < 8; i++)
        out->v[gprs[i]] = (uint16_t)cr.gpr[i];
    out->v[R_IP] = (uint16_t)cr.rip;
    out->v[R_FLAGS] = (uint16_t)cr.rflags;
    out->v[R_CS] = cr.seg[SEG_CS].selector;
    out->v[R_SS] = cr.seg[SEG_SS].selector;
    out->v[R_DS] = cr.seg[SEG_DS].selector;
    out->v[R_ES] = cr.seg[SEG_ES].selector;
}

static uint8_t mem8(Runner *r, uint32_t a) { return (uint8_t)bus_mem_read(r->bus, a, 1); }
static uint16_t mem16(Runner *r, uint32_t a) { return (uint16_t)(mem8(r, a) | mem8(r, a + 1) << 8); }

/* Instruction anatomy: prefixes, opcode, ModRM reg field. */
typedef struct Insn {
    int nprefix;
    bool lock, rep;
    uint8_t op;
    int reg;  /* -1 if no ModRM byte */
    bool mem; /* ModRM selects memory */
    int rm;   /* ModRM r/m field */
    int len;  /* prefixes + opcode + ModRM + displacement (no immediate) */
    int total;         /* whole instruction length (recorded bytes minus the HLT) */
    uint8_t imm8;      /* last byte of the instruction (shift count of C0/C1) */
    uint16_t far_off, far_seg; /* 9A/EA operand */
    uint32_t ea;       /* memory operand's linear address (16-bit modes) */
    bool ss_operand;   /* the ModRM memory operand (or a string source) uses SS */
} Insn;

/* Regs16 index of each 16-bit register in ModRM encoding order. */
static const int reg16_order[8] = {R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI};

static bool has_modrm(uint8_t op)
{
    /* One-byte opcodes with a ModRM byte (8086/286 map). */
    if (op < 0x40)
        return (op & 7) < 4;
    return (op >= 0x62 && op <= 0x63) || op == 0x69 || op == 0x6B || (op >= 0x80 && op <= 0x8F) ||
           (op >= 0xC0 && op <= 0xC1) || (op >= 0xC4 && op <= 0xC7) || (op >= 0xD0 && op <= 0xD3) ||
           (op >= 0xD8 && op <= 0xDF) || op == 0xF6 || op == 0xF7 || op == 0xFE || op == 0xFF;
}

static void decode(const uint8_t *b, int n, Insn *in)
{
    memset(in, 0, sizeof *in);
    int i = 0;
    while (i < n && (b[i] == 0x26 || b[i] == 0x2E || b[i] == 0x36 || b[i] == 0x3E || b[i] == 0xF0 ||
                     b[i] == 0xF2 || b[i] == 0xF3)) {
        in->lock |= b[i] == 0xF0;
        in->rep |= b[i] == 0xF2 || b[i] == 0xF3;
        i++;
    }
    in->nprefix = i;
    in->op = i < n ? b[i] : 0x90;
    in->reg = -1;
    if (has_modrm(in->op) && i + 1 < n) {
        uint8_t m = b[i + 1], mod = m >> 6;
        in->reg = (m >> 3) & 7;
        in->rm = m & 7;
        in->mem = mod != 3;
        /* 16-bit addressing: mod 0 rm 6 and mod 2 take disp16, mod 1 disp8. */
        in->len = i + 2 + (mod == 1 ? 1 : mod == 2 || (mod == 0 && in->rm == 6) ? 2 : 0);
    } else {
        in->len = i + 1;
    }
}

/* Can this instruction touch memory through SS?  Implicit stack users
 * (PUSH/POP/CALL/RET/INT/IRET/ENTER/LEAVE/PUSHA/POPA/PUSHF/POPF/BOUND is
 * not one) or an SS-based operand.  Only those may turn the 286's #GP into
 * the 386+'s #SS. */
static bool stack_access(const Insn *in)
{
    static const uint8_t implicit[] = {0x06, 0x07, 0x0E, 0x16, 0x17, 0x1E, 0x1F, 0x60, 0x61, 0x68, 0x6A,
                                       0x8F, 0x9A, 0x9C, 0x9D, 0xC2, 0xC3, 0xC8, 0xC9, 0xCA, 0xCB, 0xCC,
                                       0xCD, 0xCE, 0xCF, 0xE8};
    if (in->ss_operand)
        return true;
    if (in->op >= 0x50 && in->op <= 0x5F)
        return true;
    if (in->op == 0xFF && (in->reg == 2 || in->reg == 3 || in->reg == 6))
        return true;
    for (size_t i = 0; i < sizeof implicit; i++)
        if (in->op == implicit[i])
            return true;
    return false;
}

/* Fills the fields of `in` that need the operand bytes or registers. */
static void insn_details(Insn *in, const uint8_t *b, int nb, const Regs16 *init)
{
    in->total = nb > 0 && b[nb - 1] == 0xF4 ? nb - 1 : nb;
    in->imm8 = in->total > 0 ? b[in->total - 1] : 0;
    int o = in->nprefix;
    if ((in->op == 0xEA || in->op == 0x9A) && o + 5 <= nb) {
        in->far_off = (uint16_t)(b[o + 1] | b[o + 2] << 8);
        in->far_seg = (uint16_t)(b[o + 3] | b[o + 4] << 8);
    }
    for (int i = 0; i < in->nprefix; i++)
        if (b[i] == 0x36) /* SS: override, e.g. of a string instruction's source */
            in->ss_operand = true;
    if (!in->mem || o + 1 >= nb)
        return;
    /* 16-bit effective address (Intel SDM Vol. 2A Table 2-1). */
    static const int base[8][2] = {{R_BX, R_SI}, {R_BX, R_DI}, {R_BP, R_SI}, {R_BP, R_DI},
                                   {R_SI, -1},   {R_DI, -1},   {R_BP, -1},   {R_BX, -1}};
    uint8_t mod = b[o + 1] >> 6;
    uint16_t off = 0;
    int seg = R_DS;
    if (mod == 0 && in->rm == 6) {
        off = (uint16_t)(b[o + 2] | b[o + 3] << 8);
    } else {
        off = init->v[base[in->rm][0]];
        if (base[in->rm][1] >= 0)
            off = (uint16_t)(off + init->v[base[in->rm][1]]);
        if (base[in->rm][0] == R_BP)
            seg = R_SS;
        if (mod == 1)
            off = (uint16_t)(off + (int8_t)b[o + 2]);
        else if (mod == 2)
            off = (uint16_t)(off + (b[o + 2] | b[o + 3] << 8));
    }
    static const int seg_of_prefix[4] = {R_ES, R_CS, R_SS, R_DS}; /* 26 2E 36 3E */
    for (int i = 0; i < in->nprefix; i++)
        if ((b[i] & 0xE7) == 0x26)
            seg = seg_of_prefix[(b[i] >> 3) & 3];
    in->ea = ((uint32_t)init->v[seg] << 4) + off;
    in->ss_operand = seg == R_SS;
}

/* LOCK-able forms on the 386+ (Intel SDM Vol. 2A, LOCK): memory destination
 * of ADD ADC AND BTx CMPXCHG DEC INC NEG NOT OR SBB SUB XOR XADD XCHG. */
static bool lockable(const Insn *in)
{
    uint8_t op = in->op;
    if (!in->mem)
        return false;
    if (op < 0x40 && (op & 7) < 2 && (op & 0x38) != 0x38)
        return true; /* ALU r/m, r (not CMP) */
    if (op >= 0x80 && op <= 0x83)
        return in->reg != 7;
    if (op == 0x86 || op == 0x87)
        return true;
    if (op == 0xF6 || op == 0xF7)
        return in->reg == 2 || in->reg == 3;
    if (op == 0xFE || op == 0xFF)
        return in->reg == 0 || in->reg == 1;
    return false;
}

/* Handlers (each a HLT) for the exceptions only a 386+ raises. */
enum { SENTINEL_SEG = 0xE000, SENTINEL_UD = 0x0600, SENTINEL_SS = 0x0C00 };

/* Loads the vector, runs it; returns the Regs16 after. */
static void run_vector(Runner *r, const Json *j, int t, Regs16 *init, Regs16 *fin, Insn *in)
{
    int ini = j_get(j, t, "initial");
    memset(init, 0, sizeof *init);
    load_regs(j, j_get(j, ini, "regs"), init);
    /* Sentinel IVT entries for the vectors the rules may need (#UD, #SS);
     * initial.ram overrides them when the vector defines them. */
    bus_mem_write(r->bus, 6 * 4, (uint32_t)SENTINEL_SEG << 16 | SENTINEL_UD, 4);
    bus_mem_write(r->bus, 12 * 4, (uint32_t)SENTINEL_SEG << 16 | SENTINEL_SS, 4);
    bus_mem_write(r->bus, ((uint32_t)SENTINEL_SEG << 4) + SENTINEL_UD, 0xF4, 1);
    bus_mem_write(r->bus, ((uint32_t)SENTINEL_SEG << 4) + SENTINEL_SS, 0xF4, 1);
    int ram = j_get(j, ini, "ram");
    for (int c = ram >= 0 ? j->nodes[ram].first : -1; c >= 0; c = j->nodes[c].next)
        bus_mem_write(r->bus, (uint64_t)j_num(j, j_at(j, c, 0), 0), (uint64_t)j_num(j, j_at(j, c, 1), 0), 1);
    uint8_t bytes[16] = {0};
    int nb = 0, bn = j_get(j, t, "bytes");
    for (int c = bn >= 0 ? j->nodes[bn].first : -1; c >= 0 && nb < 16; c = j->nodes[c].next)
        bytes[nb++] = (uint8_t)j_num(j, c, 0);
    decode(bytes, nb, in);
    insn_details(in, bytes, nb, init);
    /* A far JMP/CALL the 286 refused (length > 10) runs on the 386+: give
     * its target the HLT the recorder would have placed there. */
    if ((in->op == 0xEA || in->op == 0x9A) && in->total > 10)
        bus_mem_write(r->bus, ((uint32_t)in->far_seg << 4) + in->far_off, 0xF4, 1);
    set_cpu(r, init);
    /* The recording rig placed HLT (F4) after the instruction and at every
     * jump target and interrupt handler, and took the final state once the
     * CPU halted: the recorded IP is past that HLT.  So run until HLT (a REP
     * string instruction retired one iteration at a time takes many steps;
     * the bound keeps a runaway from hanging the suite). */
    for (long k = 0; k < 200000; k++) {
        uint64_t n = 0;
        if (cpu_run(r->cpu, 1, &n) == CPU_EXIT_HLT)
            break;
        CpuRegs cr;
        cpu_get_regs(r->cpu, &cr);
        if (cr.halted)
            break;
    }
    get_cpu(r, fin);
}

/* Did the core deliver exception `vec` (not the 286's) for this vector?
 * Checks: CS:IP = IVT[vec] + 1 (past the handler's HLT), SP = SP-6, pushed
 * IP/CS = start of the instruction, general registers unchanged. */
static bool took_exception(Runner *r, const Regs16 *init, const Regs16 *fin, int vec)
{
    uint16_t ip = (uint16_t)mem16(r, vec * 4), cs = (uint16_t)mem16(r, vec * 4 + 2);
    if (fin->v[R_CS] != cs || fin->v[R_IP] != (uint16_t)(ip + 1) || fin->v[R_SP] != (uint16_t)(init->v[R_SP] - 6))
        return false;
    uint32_t ss = (uint32_t)fin->v[R_SS] << 4;
    if (mem16(r, ss + fin->v[R_SP]) != init->v[R_IP] ||
        mem16(r, ss + (uint16_t)(fin->v[R_SP] + 2)) != init->v[R_CS])
        return false;
    static const int same[] = {R_AX, R_BX, R_CX, R_DX, R_BP, R_SI, R_DI, R_SS, R_DS, R_ES};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++)
        if (fin->v[same[i]] != init->v[same[i]])
            return false;
    return true;
}

typedef struct Group {
    char key[16];       /* "F6.6", "00", "C6.3" */
    const char *status; /* metadata status */
    unsigned mask;      /* metadata flags-mask */
    int total, pass;
    int rules[RULE_COUNT];
    char first_fail[4200];
} Group;

/* Compares the core's state with the recorded final state under `mask`
 * (FLAGS and pushed FLAGS).  *hi_needed: passing needed the flags-12-15 rule. */
static bool compare_recorded(Runner *r, const Json *j, int t, const Regs16 *init, const Regs16 *fin,
                             const Insn *in, unsigned mask, bool *hi_needed)
{
    int fn = j_get(j, t, "final");
    Regs16 exp = *init;
    load_regs(j, j_get(j, fn, "regs"), &exp);
    int exc = j_get(j, t, "exception");
    bool ok = true;
    *hi_needed = false;
    for (int i = 0; i < 14; i++) {
        unsigned e = exp.v[i], a = fin->v[i];
        if (i == R_FLAGS) {
            e &= mask, a &= mask;
            if ((e ^ a) && !((e ^ a) & 0x0FFF)) {
                *hi_needed = true;
                continue;
            }
        }
        if (e != a) {
            difff(r, "  %-5s expected %04x got %04x (initial %04x)%s\n", reg_names[i], e, a,
                  init->v[i], i == R_FLAGS ? " [masked]" : "");
            ok = false;
        }
    }
    /* Where FLAGS were pushed (exception frame or PUSHF), compare them under
     * the same mask. */
    uint32_t fl_lo = UINT32_MAX;
    if (exc >= 0)
        fl_lo = ((uint32_t)exp.v[R_SS] << 4) + (uint16_t)(exp.v[R_SP] + 4);
    else if (in->op == 0x9C)
        fl_lo = ((uint32_t)exp.v[R_SS] << 4) + exp.v[R_SP];
    int ram = j_get(j, fn, "ram");
    for (int c = ram >= 0 ? j->nodes[ram].first : -1; c >= 0; c = j->nodes[c].next) {
        uint32_t addr = (uint32_t)j_num(j, j_at(j, c, 0), 0);
        unsigned e = (unsigned)j_num(j, j_at(j, c, 1), 0), a = mem8(r, addr), m = 0xFF;
        if (addr == fl_lo)
            m = mask & 0xFF;
        else if (addr == fl_lo + 1)
            m = (mask >> 8) & 0xFF;
        if ((e ^ a) & m) {
            if (addr == fl_lo + 1 && !((e ^ a) & m & 0x0F)) {
                *hi_needed = true;
                continue;
            }
            difff(r, "  ram[%05x] expected %02x got %02x%s\n", addr, e, a,
                  m != 0xFF ? " [pushed FLAGS, masked]" : "");
            ok = false;
        }
    }
    return ok;
}

/* Flags a shift/rotate leaves undefined for this count beyond what the
 * metadata masks (Intel SDM Vol. 2B SAL/SAR/SHL/SHR and RCL/RCR/ROL/ROR,
 * "Flags Affected"): OF unless the masked count is 1; for SHL/SHR/SAL, CF
 * when the count is at least the operand width. */
static unsigned shift_undefined(const Insn *in, const Regs16 *init)
{
    unsigned count;
    if (in->op == 0xC0 || in->op == 0xC1)
        count = in->imm8;
    else if (in->op == 0xD2 || in->op == 0xD3)
        count = init->v[R_CX] & 0xFF;
    else
        return 0;
    count &= 0x1F;
    if (count == 0)
        return 0;
    unsigned undef = count != 1 ? 0x800 : 0;
    unsigned width = (in->op & 1) ? 16 : 8;
    if (in->reg >= 4 && in->reg != 7 && count >= width)
        undef |= 0x001;
    return undef;
}

/* A 386+ fault is restartable: registers and flags as before the
 * instruction, FLAGS pushed unchanged.  Checks that exactly that happened. */
static bool clean_fault(Runner *r, const Regs16 *init, const Regs16 *fin, int vec, unsigned mask)
{
    if (!took_exception(r, init, fin, vec))
        return false;
    unsigned m = mask & 0x0FFF;
    uint32_t ss = (uint32_t)fin->v[R_SS] << 4;
    unsigned pushed = mem16(r, ss + (uint16_t)(fin->v[R_SP] + 4));
    return ((pushed ^ init->v[R_FLAGS]) & m) == 0 && ((fin->v[R_FLAGS] ^ (init->v[R_FLAGS] & ~0x300u)) & m) == 0;
}

/* A REP string instruction that faulted part-way on the 386+: the
 * iterations before the faulting one are committed, the faulting one is not
 * (Intel SDM Vol. 2B REP: "the registers ... reflect the state at the
 * faulting iteration").  Checks that the core's state is exactly that: n
 * iterations done, SI/DI moved by n elements, the next element is the word
 * at offset 0xFFFF that cannot be accessed, the frame points at the
 * instruction.  (The 286 commits part of the faulting iteration.) */
static bool rep_fault_ok(Runner *r, const Regs16 *init, const Regs16 *fin, const Insn *in)
{
    uint8_t op = in->op;
    bool word = op & 1, si = false, di = false;
    if (!in->rep || (!(op >= 0x6C && op <= 0x6F) && !(op >= 0xA4 && op <= 0xA7) && !(op >= 0xAA && op <= 0xAF)))
        return false;
    si = (op >= 0x6E && op <= 0x6F) || (op >= 0xA4 && op <= 0xA7) || op == 0xAC || op == 0xAD;
    di = (op >= 0x6C && op <= 0x6D) || (op >= 0xA4 && op <= 0xA7) || op == 0xAA || op == 0xAB ||
         op == 0xAE || op == 0xAF;
    if (!word)
        return false;
    int vec = -1;
    for (int v = 12; v <= 13 && vec < 0; v++)
        if (fin->v[R_CS] == mem16(r, v * 4 + 2) && fin->v[R_IP] == (uint16_t)(mem16(r, v * 4) + 1))
            vec = v;
    uint32_t ss = (uint32_t)fin->v[R_SS] << 4;
    if (vec < 0 || fin->v[R_SP] != (uint16_t)(init->v[R_SP] - 6) || mem16(r, ss + fin->v[R_SP]) != init->v[R_IP] ||
        mem16(r, ss + (uint16_t)(fin->v[R_SP] + 2)) != init->v[R_CS])
        return false;
    uint16_t n = (uint16_t)(init->v[R_CX] - fin->v[R_CX]);
    if (n >= init->v[R_CX])
        return false;
    int step = (init->v[R_FLAGS] & 0x400) ? -2 : 2;
    if (si && fin->v[R_SI] != (uint16_t)(init->v[R_SI] + n * step))
        return false;
    if (di && fin->v[R_DI] != (uint16_t)(init->v[R_DI] + n * step))
        return false;
    if (!(si && fin->v[R_SI] == 0xFFFF) && !(di && fin->v[R_DI] == 0xFFFF))
        return false;
    static const int same[] = {R_AX, R_BX, R_DX, R_BP, R_SS, R_DS, R_ES};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++)
        if (fin->v[same[i]] != init->v[same[i]] && !(same[i] == R_AX && (op == 0xAD)))
            return false;
    return (si || fin->v[R_SI] == init->v[R_SI]) && (di || fin->v[R_DI] == init->v[R_DI]);
}

/* The 286 faults (#GP, interrupt 13) on instructions longer than 10 bytes;
 * the 386+ allows 15.  The 386+ outcome is not recorded, so check the
 * control flow: no fault, and IP past the instruction (its HLT follows), or
 * for a far JMP/CALL the target (where run_vector placed a HLT). */
static bool long_insn_ok(Runner *r, const Regs16 *init, const Regs16 *fin, const Insn *in)
{
    if (in->op == 0xEA || in->op == 0x9A) {
        if (fin->v[R_CS] != in->far_seg || fin->v[R_IP] != (uint16_t)(in->far_off + 1))
            return false;
        if (in->op == 0xEA)
            return fin->v[R_SP] == init->v[R_SP];
        uint32_t ss = (uint32_t)fin->v[R_SS] << 4;
        return fin->v[R_SP] == (uint16_t)(init->v[R_SP] - 4) &&
               mem16(r, ss + fin->v[R_SP]) == (uint16_t)(init->v[R_IP] + in->total) &&
               mem16(r, ss + (uint16_t)(fin->v[R_SP] + 2)) == init->v[R_CS];
    }
    return fin->v[R_CS] == init->v[R_CS] && fin->v[R_IP] == (uint16_t)(init->v[R_IP] + in->total + 1);
}

/* IDIV whose true quotient does not fit the destination: #DE (Intel SDM
 * Vol. 2A IDIV); the 286 silicon sometimes returns a result instead. */
static bool idiv_overflows(Runner *r, const Regs16 *init, const Insn *in)
{
    if ((in->op != 0xF6 && in->op != 0xF7) || in->reg != 7)
        return false;
    int32_t divisor;
    if (in->mem)
        divisor = in->op == 0xF6 ? (int8_t)mem8(r, in->ea) : (int16_t)mem16(r, in->ea);
    else if (in->op == 0xF7)
        divisor = (int16_t)init->v[reg16_order[in->rm]];
    else /* AL CL DL BL AH CH DH BH */
        divisor = (int8_t)(init->v[reg16_order[in->rm & 3]] >> (in->rm & 4 ? 8 : 0));
    if (divisor == 0)
        return false;
    if (in->op == 0xF6) {
        int32_t q = (int16_t)init->v[R_AX] / divisor;
        return q < -128 || q > 127;
    }
    int64_t q = (int32_t)((uint32_t)init->v[R_DX] << 16 | init->v[R_AX]) / divisor;
    return q < -32768 || q > 32767;
}

/* Compares; returns true on pass and the rule that was needed (or -1).
 * Fills r->diff with the plain comparison's differences. */
static bool compare(Runner *r, const Json *j, int t, const Regs16 *init, const Regs16 *fin,
                    const Insn *in, unsigned mask, int *rule)
{
    int exc = j_get(j, t, "exception");
    int exc_no = exc >= 0 ? (int)j_num(j, j_get(j, exc, "number"), -1) : -1;
    bool hi;
    r->difflen = 0;
    *rule = -1;

    if (compare_recorded(r, j, t, init, fin, in, mask, &hi)) {
        if (hi)
            *rule = RULE_FLAGS_HI;
        return true;
    }
    /* Rules, each for a documented 286-vs-386+ difference. */
    size_t keep = r->difflen;
    unsigned undef = shift_undefined(in, init);
    if (undef && exc_no < 0) {
        size_t save = r->difflen;
        if (compare_recorded(r, j, t, init, fin, in, mask & ~undef, &hi)) {
            *rule = RULE_SHIFT_FLAGS;
            return true;
        }
        r->difflen = save;
    }
    if (in->lock && !lockable(in) && took_exception(r, init, fin, 6)) {
        *rule = RULE_LOCK_UD;
        return true;
    }
    if ((in->op == 0x8C || in->op == 0x8E) && (in->reg == 4 || in->reg == 5) && exc_no == 6) {
        /* The 386+ executes MOV to/from FS/GS (both set to selector 0 here):
         * expect IP past the instruction and, for 8C with a register
         * destination, that register = 0. */
        bool ok = fin->v[R_IP] == (uint16_t)(init->v[R_IP] + in->len + 1) && fin->v[R_CS] == init->v[R_CS];
        if (ok && in->op == 0x8C && !in->mem)
            ok = fin->v[reg16_order[in->rm]] == 0;
        if (ok) {
            *rule = RULE_FS_GS;
            return true;
        }
    }
    if (exc_no == 13 && stack_access(in) && clean_fault(r, init, fin, 12, mask)) {
        *rule = RULE_STACK_SS;
        return true;
    }
    if (exc_no == 13 && in->total > 10 && long_insn_ok(r, init, fin, in)) {
        *rule = RULE_INSN_LENGTH;
        return true;
    }
    if (exc_no >= 0 && (clean_fault(r, init, fin, exc_no, mask) ||
                        (exc_no == 13 && rep_fault_ok(r, init, fin, in)))) {
        *rule = RULE_RESTART;
        return true;
    }
    if (exc_no < 0 && idiv_overflows(r, init, in) && clean_fault(r, init, fin, 0, mask)) {
        *rule = RULE_IDIV;
        return true;
    }
    r->difflen = keep;
    return false;
}

/* ------------------------------------------------------------- metadata */
typedef struct Meta {
    Json j;
    int ops;
} Meta;

static void meta_lookup(const Meta *m, const char *op, int reg, const char **status, unsigned *mask)
{
    *status = "normal";
    *mask = 0xFFFF;
    int o = j_get(&m->j, m->ops, op);
    if (o < 0)
        return;
    int regs = j_get(&m->j, o, "reg");
    if (regs >= 0 && reg >= 0) {
        char k[4];
        snprintf(k, sizeof k, "%d", reg);
        o = j_get(&m->j, regs, k);
        if (o < 0)
            return;
    }
    const char *s = j_str(&m->j, j_get(&m->j, o, "status"));
    if (s)
        *status = s;
    *mask = (unsigned)j_num(&m->j, j_get(&m->j, o, "flags-mask"), 0xFFFF);
}

static bool documented(const char *status)
{
    return !strcmp(status, "normal") || !strcmp(status, "alias");
}

/* --------------------------------------------------------------- driver */
#define MAX_GROUPS 512
typedef struct Totals {
    Group g[MAX_GROUPS];
    int n;
} Totals;

static Group *group_for(Totals *tot, const Meta *meta, const char *key, int reg)
{
    char k[16];
    if (reg >= 0 && !strchr(key, '.'))
        snprintf(k, sizeof k, "%.8s.%d", key, reg & 7);
    else
        snprintf(k, sizeof k, "%s", key);
    for (int i = 0; i < tot->n; i++)
        if (!strcmp(tot->g[i].key, k))
            return &tot->g[i];
    if (tot->n == MAX_GROUPS)
        return NULL;
    Group *g = &tot->g[tot->n++];
    memset(g, 0, sizeof *g);
    snprintf(g->key, sizeof g->key, "%s", k);
    char op[8];
    snprintf(op, sizeof op, "%.*s", (int)strcspn(k, "."), k);
    const char *dot = strchr(k, '.');
    meta_lookup(meta, op, dot ? atoi(dot + 1) : -1, &g->status, &g->mask);
    return g;
}

/* Does metadata split this opcode by ModRM reg? */
static bool meta_has_reg(const Meta *m, const char *op)
{
    return j_get(&m->j, j_get(&m->j, m->ops, op), "reg") >= 0;
}

static int run_file(Runner *r, const Meta *meta, Totals *tot, const char *dir, const char *fname)
{
    char path[8192], key[16];
    snprintf(path, sizeof path, "%.4000s/%.4000s", dir, fname);
    snprintf(key, sizeof key, "%.*s", (int)(strstr(fname, ".json") - fname), fname);
    Json j;
    if (json_load(&j, path) < 0) {
        printf("FAIL singlestep.%s: cannot read %s: %s\n", key, path, j.err[0] ? j.err : strerror(errno));
        json_free(&j);
        return -1;
    }
    bool split = !strchr(key, '.') && meta_has_reg(meta, key);
    for (int t = j.nodes[0].first; t >= 0; t = j.nodes[t].next) {
        Regs16 init, fin;
        Insn in;
        run_vector(r, &j, t, &init, &fin, &in);
        Group *g = group_for(tot, meta, key, split ? in.reg : -1);
        if (!g)
            break;
        int rule;
        g->total++;
        if (compare(r, &j, t, &init, &fin, &in, g->mask, &rule)) {
            g->pass++;
            if (rule >= 0) {
                g->rules[rule]++;
                r->rule_hits[rule]++;
            }
        } else if (!g->first_fail[0]) {
            char hex[64] = "";
            int bn = j_get(&j, t, "bytes");
            for (int c = bn >= 0 ? j.nodes[bn].first : -1, k = 0; c >= 0 && k < 15; c = j.nodes[c].next, k++)
                snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "%02x", (unsigned)j_num(&j, c, 0));
            snprintf(g->first_fail, sizeof g->first_fail, "idx %d '%s' bytes %s%s\n%.*s",
                     (int)j_num(&j, j_get(&j, t, "idx"), -1), j_str(&j, j_get(&j, t, "name")), hex,
                     j_get(&j, t, "exception") >= 0 ? " (286 raised an exception)" : "",
                     (int)r->difflen, r->diff);
        }
    }
    json_free(&j);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool matches(const char *key, int nfilter, char **filter)
{
    if (!nfilter)
        return true;
    for (int i = 0; i < nfilter; i++)
        if (!strncasecmp(key, filter[i], strlen(filter[i])))
            return true;
    return false;
}

/* Joins a multi-line diff into one line ("a; b; c"). */
static void one_line(char *out, size_t n, const char *in)
{
    size_t o = 0;
    bool space = false;
    for (; *in && o + 3 < n; in++) {
        if (*in == '\n') {
            if (in[1])
                out[o++] = ';';
            space = true;
        } else if (*in == ' ') {
            space = true;
        } else {
            if (space && o)
                out[o++] = ' ';
            space = false;
            out[o++] = *in;
        }
    }
    out[o] = 0;
}

static const char *skip_reason(const Group *g)
{
    if (!strcmp(g->status, "fpu"))
        return "x87 escape: the 286 rig had no coprocessor (ESC decodes as a no-op), the 486 "
               "has an on-chip FPU, so outcomes differ by design";
    if (!strcmp(g->status, "undefined"))
        return "opcode undefined on the 286 (outcome not architectural)";
    if (!strcmp(g->status, "undocumented"))
        return "undocumented 286 opcode (outcome not architectural on the 486)";
    return "non-documented opcode";
}

static int report(const Runner *r, Totals *tot)
{
    int fails = 0, doc_total = 0, doc_pass = 0, other_total = 0, other_pass = 0;
    for (int i = 0; i < tot->n; i++) {
        Group *g = &tot->g[i];
        if (!strcmp(g->status, "fpu")) {
            printf("SKIP singlestep.%s: %d/%d pass; %s\n", g->key, g->pass, g->total, skip_reason(g));
            other_total += g->total, other_pass += g->pass;
        } else if (documented(g->status)) {
            doc_total += g->total, doc_pass += g->pass;
            if (g->pass == g->total) {
                printf("PASS singlestep.%s: %d/%d", g->key, g->pass, g->total);
            } else {
                /* One line (the runner keeps only PASS/FAIL/SKIP lines), then
                 * the same diff as an indented block for people. */
                char line[sizeof g->first_fail];
                one_line(line, sizeof line, g->first_fail);
                printf("FAIL singlestep.%s: %d/%d (first failure: %s)", g->key, g->pass, g->total, line);
                fails++;
            }
            for (int k = 0; k < RULE_COUNT; k++)
                if (g->rules[k])
                    printf(" [rule %s: %d]", rule_info[k].name, g->rules[k]);
            printf("\n");
            if (g->pass != g->total)
                printf("#   %s", g->first_fail);
        } else {
            other_total += g->total, other_pass += g->pass;
            if (g->pass == g->total)
                printf("PASS singlestep.%s: %d/%d (%s opcode)\n", g->key, g->pass, g->total, g->status);
            else
                printf("SKIP singlestep.%s: %d/%d pass; %s\n", g->key, g->pass, g->total, skip_reason(g));
            if (r->verbose && g->pass != g->total)
                printf("# first failure: %s\n", g->first_fail);
        }
    }
    printf("# singlestep summary (model %s): documented opcodes %d/%d vectors pass in %d groups; "
           "other (fpu/undefined/undocumented) %d/%d; %d group(s) failing\n",
           r->model, doc_pass, doc_total, tot->n, other_pass, other_total, fails);
    /* Summary table by metadata status. */
    static const char *const statuses[] = {"normal", "alias", "undocumented", "undefined", "fpu"};
    printf("# %-13s %7s %7s %9s %9s\n", "status", "groups", "passing", "vectors", "passing");
    for (size_t k = 0; k < sizeof statuses / sizeof *statuses; k++) {
        int ng = 0, ngp = 0, nv = 0, nvp = 0;
        for (int i = 0; i < tot->n; i++)
            if (!strcmp(tot->g[i].status, statuses[k])) {
                ng++, nv += tot->g[i].total, nvp += tot->g[i].pass;
                ngp += tot->g[i].pass == tot->g[i].total;
            }
        printf("# %-13s %7d %7d %9d %9d\n", statuses[k], ng, ngp, nv, nvp);
    }
    printf("# rules applied (vectors that pass only by a named 286-vs-386+ difference):\n");
    for (int k = 0; k < RULE_COUNT; k++)
        printf("#   %-16s %6ld  %s\n", rule_info[k].name, r->rule_hits[k], rule_info[k].what);
    return fails;
}

int main(int argc, char **argv)
{
    const char *dir = "/work/shared/singlestep/80286", *model = "486";
    int verbose = 0, nfilter = 0;
    char **filter = calloc((size_t)argc, sizeof *filter);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-d") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "-m") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(argv[i], "-v"))
            verbose = 1;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: singlestep [-d DIR] [-m MODEL] [-v] [OPCODE-PREFIX...]\n");
            return 2;
        } else
            filter[nfilter++] = argv[i];
    }
    char path[4096], vdir[4096];
    Meta meta;
    snprintf(path, sizeof path, "%s/metadata.json", dir);
    if (json_load(&meta.j, path) < 0 || (meta.ops = j_get(&meta.j, 0, "opcodes")) < 0) {
        printf("SKIP singlestep: no vectors at %s (%s)\n", path, strerror(errno));
        return 0;
    }
    snprintf(vdir, sizeof vdir, "%s/v1_real_mode", dir);
    DIR *d = opendir(vdir);
    if (!d) {
        printf("SKIP singlestep: cannot open %s\n", vdir);
        return 0;
    }
    char **names = NULL;
    size_t nn = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strstr(e->d_name, ".json.gz"))
            continue;
        char **p = realloc(names, (nn + 1) * sizeof *names);
        if (!p)
            break;
        names = p;
        names[nn++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_names);

    Runner r;
    VsxError err = {{0}};
    if (runner_init(&r, model, &err) < 0) {
        printf("FAIL singlestep: cannot create machine: %s\n", err.msg);
        return 1;
    }
    r.verbose = verbose;
    Totals *tot = calloc(1, sizeof *tot);
    for (size_t i = 0; i < nn; i++) {
        if (matches(names[i], nfilter, filter))
            run_file(&r, &meta, tot, vdir, names[i]);
        free(names[i]);
    }
    free(names);
    int fails = report(&r, tot);
    free(tot);
    free(filter);
    runner_free(&r);
    json_free(&meta.j);
    return fails ? 1 : 0;
}
