/* VT-d MMIO register file: architected read/write behaviour (vtd-facts §1).
 * Model decisions are listed in regfile.h. */
#include "models/vtd/regfile.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "models/vtd/vtd_config.h"

#define M(...) ((uint32_t)IMS_VTD_MASK(__VA_ARGS__))   /* 32-bit register bit mask */
#define M64(...) IMS_VTD_MASK(__VA_ARGS__)

#define MAX_FRCD 256 /* CAP.NFR is 8 bits */

/* Fault-event sources (§1.8 event rules). */
#define FSTS_EVENT_BITS \
    (M(IMS_VTD_FSTS_PFO) | M(IMS_VTD_FSTS_PPF) | M(IMS_VTD_FSTS_IQE) | M(IMS_VTD_FSTS_ICE) | M(IMS_VTD_FSTS_ITE))
#define FSTS_RW1C_BITS \
    (M(IMS_VTD_FSTS_PFO) | M(IMS_VTD_FSTS_AFO) | M(IMS_VTD_FSTS_IQE) | M(IMS_VTD_FSTS_ICE) | M(IMS_VTD_FSTS_ITE))
#define FSTS_STALL_BITS (M(IMS_VTD_FSTS_IQE) | M(IMS_VTD_FSTS_ITE))
#define PRS_BITS (M(IMS_VTD_PRS_PPR) | M(IMS_VTD_PRS_PRO))

/* One event interrupt source: control (IM/IP), MSI data and address. */
typedef struct ev_regs {
    uint32_t ctl, data, addr, uaddr;
} ev_regs;

struct ims_vtd_regfile {
    /* First, and also readable as the header's ims_vtd_regfile_xstate (the
     * inline ims_vtd_regfile_hw_fast); the layouts are the same. */
    union {
        ims_vtd_regfile_xstate xstate;
        struct {
            uint64_t cap, ecap;
            uint64_t rtaddr_active;
            uint32_t gsts;
        };
    };
    uint32_t ver;
    ims_vtd_reg_hooks hooks;
    uint64_t frcd_base, iotlb_base;
    unsigned nfrcd;

    uint64_t rtaddr;
    uint64_t ccmd;
    uint32_t fsts; /* everything but PPF, which is derived from the F bits */
    ev_regs fe, ie, pe;
    uint64_t iqh, iqt, iqa, iqercd;
    uint32_t ics;
    uint64_t irta, irta_active;
    uint64_t pqh, pqt, pqa;
    uint32_t prs;
    uint64_t iva, iotlb;
    uint64_t frcd[MAX_FRCD][2];
    unsigned frcd_next;
    ims_vtd_regfile_counters cnt;
};

/* ---- register map ---------------------------------------------------------- */

typedef enum reg_id {
    R_NONE, R_VER, R_CAP, R_ECAP, R_GCMD, R_GSTS, R_RTADDR, R_CCMD, R_FSTS,
    R_FECTL, R_FEDATA, R_FEADDR, R_FEUADDR,
    R_IQH, R_IQT, R_IQA, R_ICS, R_IECTL, R_IEDATA, R_IEADDR, R_IEUADDR, R_IQERCD,
    R_IRTA, R_PQH, R_PQT, R_PQA, R_PRS, R_PECTL, R_PEDATA, R_PEADDR, R_PEUADDR,
    R_IVA, R_IOTLB, R_FRCD_QW0, R_FRCD_QW1,
} reg_id;

enum { NEED_NONE, NEED_QI, NEED_IR, NEED_PRS };

static const struct fixed_reg {
    uint16_t off;
    uint8_t id, width, need;
} fixed_regs[] = {
    {IMS_VTD_REG_VER, R_VER, 4, NEED_NONE},         {IMS_VTD_REG_CAP, R_CAP, 8, NEED_NONE},
    {IMS_VTD_REG_ECAP, R_ECAP, 8, NEED_NONE},       {IMS_VTD_REG_GCMD, R_GCMD, 4, NEED_NONE},
    {IMS_VTD_REG_GSTS, R_GSTS, 4, NEED_NONE},       {IMS_VTD_REG_RTADDR, R_RTADDR, 8, NEED_NONE},
    {IMS_VTD_REG_CCMD, R_CCMD, 8, NEED_NONE},       {IMS_VTD_REG_FSTS, R_FSTS, 4, NEED_NONE},
    {IMS_VTD_REG_FECTL, R_FECTL, 4, NEED_NONE},     {IMS_VTD_REG_FEDATA, R_FEDATA, 4, NEED_NONE},
    {IMS_VTD_REG_FEADDR, R_FEADDR, 4, NEED_NONE},   {IMS_VTD_REG_FEUADDR, R_FEUADDR, 4, NEED_NONE},
    {IMS_VTD_REG_IQH, R_IQH, 8, NEED_QI},           {IMS_VTD_REG_IQT, R_IQT, 8, NEED_QI},
    {IMS_VTD_REG_IQA, R_IQA, 8, NEED_QI},           {IMS_VTD_REG_ICS, R_ICS, 4, NEED_QI},
    {IMS_VTD_REG_IECTL, R_IECTL, 4, NEED_QI},       {IMS_VTD_REG_IEDATA, R_IEDATA, 4, NEED_QI},
    {IMS_VTD_REG_IEADDR, R_IEADDR, 4, NEED_QI},     {IMS_VTD_REG_IEUADDR, R_IEUADDR, 4, NEED_QI},
    {IMS_VTD_REG_IQERCD, R_IQERCD, 8, NEED_QI},     {IMS_VTD_REG_IRTA, R_IRTA, 8, NEED_IR},
    {IMS_VTD_REG_PQH, R_PQH, 8, NEED_PRS},          {IMS_VTD_REG_PQT, R_PQT, 8, NEED_PRS},
    {IMS_VTD_REG_PQA, R_PQA, 8, NEED_PRS},          {IMS_VTD_REG_PRS, R_PRS, 4, NEED_PRS},
    {IMS_VTD_REG_PECTL, R_PECTL, 4, NEED_PRS},      {IMS_VTD_REG_PEDATA, R_PEDATA, 4, NEED_PRS},
    {IMS_VTD_REG_PEADDR, R_PEADDR, 4, NEED_PRS},    {IMS_VTD_REG_PEUADDR, R_PEUADDR, 4, NEED_PRS},
};

typedef struct reg_loc {
    reg_id id;
    unsigned width;  /* 4 or 8 */
    uint64_t base;   /* offset of the register's first byte */
    unsigned idx;    /* FRCD index */
} reg_loc;

static bool feature_present(const ims_vtd_regfile *rf, unsigned need)
{
    switch (need) {
    case NEED_QI: return ims_vtd_ecap_qi(rf->ecap);
    case NEED_IR: return ims_vtd_ecap_ir(rf->ecap);
    case NEED_PRS: return ims_vtd_ecap_prs(rf->ecap);
    default: return true;
    }
}

/* Which register holds the 4-byte-aligned offset off. */
static reg_loc locate(const ims_vtd_regfile *rf, uint64_t off)
{
    reg_loc l = {R_NONE, 4, off, 0};
    if (off < IMS_VTD_REG_FIXED_END) {
        for (size_t i = 0; i < sizeof fixed_regs / sizeof fixed_regs[0]; i++) {
            const struct fixed_reg *r = &fixed_regs[i];
            if (off >= r->off && off < (uint64_t)r->off + r->width && feature_present(rf, r->need)) {
                l.id = (reg_id)r->id;
                l.width = r->width;
                l.base = r->off;
                return l;
            }
        }
        return l;
    }
    if (off >= rf->iotlb_base && off < rf->iotlb_base + 16) {
        l.width = 8;
        l.id = off < rf->iotlb_base + IMS_VTD_REG_IOTLB_OFF ? R_IVA : R_IOTLB;
        l.base = l.id == R_IVA ? rf->iotlb_base + IMS_VTD_REG_IVA_OFF : rf->iotlb_base + IMS_VTD_REG_IOTLB_OFF;
        return l;
    }
    if (off >= rf->frcd_base && off < rf->frcd_base + (uint64_t)IMS_VTD_FRCD_SIZE * rf->nfrcd) {
        uint64_t rel = off - rf->frcd_base;
        l.width = 8;
        l.idx = (unsigned)(rel / IMS_VTD_FRCD_SIZE);
        l.id = (rel % IMS_VTD_FRCD_SIZE) < 8 ? R_FRCD_QW0 : R_FRCD_QW1;
        l.base = rf->frcd_base + (uint64_t)l.idx * IMS_VTD_FRCD_SIZE + (l.id == R_FRCD_QW1 ? 8 : 0);
    }
    return l;
}

/* ---- events ------------------------------------------------------------------ */

static void send_msi(ims_vtd_regfile *rf, const ev_regs *ev, uint64_t *counter)
{
    (*counter)++;
    if (rf->hooks.msi)
        rf->hooks.msi(rf->hooks.ctx, ((uint64_t)ev->uaddr << 32) | ev->addr, ev->data);
}

/* An event condition occurred: pending until unmasked. */
static void event_raise(ims_vtd_regfile *rf, ev_regs *ev, uint64_t *counter)
{
    if (ev->ctl & M(IMS_VTD_ECTL_IM)) {
        ev->ctl |= M(IMS_VTD_ECTL_IP);
        return;
    }
    ev->ctl &= ~M(IMS_VTD_ECTL_IP);
    send_msi(rf, ev, counter);
}

/* Software wrote an event-control register: only IM is writable; unmasking a
 * pending event delivers it. */
static void write_ectl(ims_vtd_regfile *rf, ev_regs *ev, uint32_t val, uint64_t *counter)
{
    ev->ctl = (ev->ctl & M(IMS_VTD_ECTL_IP)) | (val & M(IMS_VTD_ECTL_IM));
    if (!(ev->ctl & M(IMS_VTD_ECTL_IM)) && (ev->ctl & M(IMS_VTD_ECTL_IP))) {
        ev->ctl &= ~M(IMS_VTD_ECTL_IP);
        send_msi(rf, ev, counter);
    }
}

static bool any_frcd_pending(const ims_vtd_regfile *rf)
{
    for (unsigned i = 0; i < rf->nfrcd; i++)
        if (ims_vtd_frcd_f(rf->frcd[i][1]))
            return true;
    return false;
}

uint32_t ims_vtd_regfile_fsts(const ims_vtd_regfile *rf)
{
    return rf->fsts | (any_frcd_pending(rf) ? M(IMS_VTD_FSTS_PPF) : 0);
}

/* Apply the §1.8 rules after FSTS (or an F bit) changed from `before`: an event
 * when the first source appears, IP cleared once every source is gone. */
static void fault_status_changed(ims_vtd_regfile *rf, uint32_t before)
{
    uint32_t now = ims_vtd_regfile_fsts(rf);
    if (!(before & FSTS_EVENT_BITS) && (now & FSTS_EVENT_BITS))
        event_raise(rf, &rf->fe, &rf->cnt.msi_fault);
    else if (!(now & FSTS_EVENT_BITS))
        rf->fe.ctl &= ~M(IMS_VTD_ECTL_IP);
}

static bool qies(const ims_vtd_regfile *rf) { return ims_vtd_gsts_qies(rf->gsts); }

bool ims_vtd_regfile_qi_stalled(const ims_vtd_regfile *rf) { return (rf->fsts & FSTS_STALL_BITS) != 0; }

static void doorbell(ims_vtd_regfile *rf)
{
    if (rf->hooks.on_doorbell)
        rf->hooks.on_doorbell(rf->hooks.ctx, rf->iqt);
}

/* ---- register writes with side effects ------------------------------------- */

static int rejected(ims_vtd_regfile *rf)
{
    rf->cnt.rejected++;
    return IMS_VTD_MMIO_REJECTED;
}

static uint32_t gcmd_supported(const ims_vtd_regfile *rf)
{
    uint32_t s = M(IMS_VTD_GCMD_TE) | M(IMS_VTD_GCMD_SRTP);
    if (ims_vtd_cap_afl(rf->cap))
        s |= M(IMS_VTD_GCMD_SFL) | M(IMS_VTD_GCMD_EAFL);
    if (ims_vtd_cap_rwbf(rf->cap))
        s |= M(IMS_VTD_GCMD_WBF);
    if (ims_vtd_ecap_qi(rf->ecap))
        s |= M(IMS_VTD_GCMD_QIE);
    if (ims_vtd_ecap_ir(rf->ecap))
        s |= M(IMS_VTD_GCMD_IRE) | M(IMS_VTD_GCMD_SIRTP) | M(IMS_VTD_GCMD_CFI);
    return s;
}

static int gcmd_qie(ims_vtd_regfile *rf, bool enable)
{
    if (enable) {
        rf->iqh = 0;
        rf->gsts |= M(IMS_VTD_GSTS_QIES);
        if (rf->iqt != rf->iqh)
            doorbell(rf);
        return IMS_VTD_MMIO_OK;
    }
    /* Disabling with descriptors still to fetch would lose them. */
    if (rf->iqh != rf->iqt && !ims_vtd_regfile_qi_stalled(rf))
        return rejected(rf);
    rf->gsts &= ~M(IMS_VTD_GSTS_QIES);
    return IMS_VTD_MMIO_OK;
}

/* One command per write (§1.4): a command is a one-shot bit set, or an enable
 * bit that differs from its status bit (GCMD bit N reports in GSTS bit N). */
static int write_gcmd(ims_vtd_regfile *rf, uint32_t v)
{
    const uint32_t sup = gcmd_supported(rf);
    const uint32_t enables = sup & (M(IMS_VTD_GCMD_TE) | M(IMS_VTD_GCMD_EAFL) | M(IMS_VTD_GCMD_QIE) |
                                    M(IMS_VTD_GCMD_IRE) | M(IMS_VTD_GCMD_CFI));
    const uint32_t oneshots = sup & ~enables;
    uint32_t cmd = (v & oneshots) | ((v ^ rf->gsts) & enables);

    if (cmd == 0)
        return IMS_VTD_MMIO_OK;
    if (cmd & (cmd - 1))
        return rejected(rf);
    if (cmd == M(IMS_VTD_GCMD_TE)) {
        rf->gsts ^= M(IMS_VTD_GSTS_TES);
        if (rf->hooks.on_te_change)
            rf->hooks.on_te_change(rf->hooks.ctx, ims_vtd_gsts_tes(rf->gsts));
    } else if (cmd == M(IMS_VTD_GCMD_SRTP)) {
        rf->rtaddr_active = rf->rtaddr;
        rf->gsts |= M(IMS_VTD_GSTS_RTPS);
        if (rf->hooks.on_srtp)
            rf->hooks.on_srtp(rf->hooks.ctx, rf->rtaddr_active);
    } else if (cmd == M(IMS_VTD_GCMD_SFL)) {
        rf->gsts |= M(IMS_VTD_GSTS_FLS);
    } else if (cmd == M(IMS_VTD_GCMD_EAFL)) {
        rf->gsts ^= M(IMS_VTD_GSTS_AFLS);
    } else if (cmd == M(IMS_VTD_GCMD_WBF)) {
        /* The flush completes within the write: WBFS is never seen set. */
        if (rf->hooks.on_wbf)
            rf->hooks.on_wbf(rf->hooks.ctx);
    } else if (cmd == M(IMS_VTD_GCMD_QIE)) {
        return gcmd_qie(rf, ims_vtd_gcmd_qie(v));
    } else if (cmd == M(IMS_VTD_GCMD_IRE)) {
        rf->gsts ^= M(IMS_VTD_GSTS_IRES);
    } else if (cmd == M(IMS_VTD_GCMD_SIRTP)) {
        rf->irta_active = rf->irta;
        rf->gsts |= M(IMS_VTD_GSTS_IRTPS);
    } else {
        assert(cmd == M(IMS_VTD_GCMD_CFI));
        rf->gsts ^= M(IMS_VTD_GSTS_CFIS);
    }
    return IMS_VTD_MMIO_OK;
}

static uint64_t merge(uint64_t old, uint64_t val, uint64_t wmask) { return (old & ~wmask) | (val & wmask); }

/* Whether a CCMD / IOTLB_REG request may be performed at all. VT-d 5.10 §6.5:
 * the register interface exists only on units with VER major 5 or lower; on
 * the others, and outside legacy mode (TTM != 00b, taken from the root pointer
 * latched by SRTP since that is the mode in effect), CAIG/IAIG report 00b
 * "Error" (§11.4.6.1, §11.4.6.3). Refusing while QIES=1 is a model decision
 * (§6.5.2: software must then use only the queue). */
static bool reg_inv_accepted(const ims_vtd_regfile *rf)
{
    return ims_vtd_ver_max(rf->ver) <= 5 && ims_vtd_rtaddr_ttm(rf->rtaddr_active) == IMS_VTD_TTM_LEGACY &&
           !qies(rf);
}

static int write_ccmd(ims_vtd_regfile *rf, uint64_t val, uint64_t wmask)
{
    const uint64_t rw = M64(IMS_VTD_CCMD_DID) | M64(IMS_VTD_CCMD_SID) | M64(IMS_VTD_CCMD_FM) |
                        M64(IMS_VTD_CCMD_CIRG) | M64(IMS_VTD_CCMD_ICC);
    uint64_t v = (merge(rf->ccmd, val, wmask) & rw) | (rf->ccmd & M64(IMS_VTD_CCMD_CAIG));
    rf->ccmd = v;
    if (!(wmask & M64(IMS_VTD_CCMD_ICC)) || !ims_vtd_ccmd_icc(v))
        return IMS_VTD_MMIO_OK;

    unsigned g = reg_inv_accepted(rf) ? ims_vtd_ccmd_cirg(v) : 0;
    rf->ccmd = IMS_VTD_SET(IMS_VTD_CCMD_ICC, IMS_VTD_SET(IMS_VTD_CCMD_CAIG, v, g), 0);
    if (g == 0)
        return rejected(rf);
    rf->cnt.ccmd_invalidations++;
    if (rf->hooks.on_ccmd)
        rf->hooks.on_ccmd(rf->hooks.ctx, rf->ccmd | M64(IMS_VTD_CCMD_ICC));
    return IMS_VTD_MMIO_OK;
}

/* Granularity the hardware performs for an IOTLB register request (0: none). */
static unsigned iotlb_actual_granularity(const ims_vtd_regfile *rf, uint64_t iotlb)
{
    unsigned g = ims_vtd_iotlb_iirg(iotlb);
    if (!reg_inv_accepted(rf) || g == 0)
        return 0;
    if (g == IMS_VTD_IOTLB_PAGE) {
        if (!ims_vtd_cap_psi(rf->cap))
            return IMS_VTD_IOTLB_DOMAIN;
        if (ims_vtd_iva_am(rf->iva) > ims_vtd_cap_mamv(rf->cap))
            return 0;
    }
    return g;
}

static int write_iotlb(ims_vtd_regfile *rf, uint64_t val, uint64_t wmask)
{
    uint64_t rw = M64(IMS_VTD_IOTLB_DID) | M64(IMS_VTD_IOTLB_IIRG) | M64(IMS_VTD_IOTLB_IVT);
    if (ims_vtd_cap_dwd(rf->cap))
        rw |= M64(IMS_VTD_IOTLB_DW);
    if (ims_vtd_cap_drd(rf->cap))
        rw |= M64(IMS_VTD_IOTLB_DR);
    uint64_t v = (merge(rf->iotlb, val, wmask) & rw) | (rf->iotlb & M64(IMS_VTD_IOTLB_IAIG));
    rf->iotlb = v;
    if (!(wmask & M64(IMS_VTD_IOTLB_IVT)) || !ims_vtd_iotlb_ivt(v))
        return IMS_VTD_MMIO_OK;

    unsigned g = iotlb_actual_granularity(rf, v);
    rf->iotlb = IMS_VTD_SET(IMS_VTD_IOTLB_IVT, IMS_VTD_SET(IMS_VTD_IOTLB_IAIG, v, g), 0);
    if (g == 0)
        return rejected(rf);
    rf->cnt.iotlb_invalidations++;
    if (rf->hooks.on_iotlb_reg)
        rf->hooks.on_iotlb_reg(rf->hooks.ctx, rf->iva, rf->iotlb | M64(IMS_VTD_IOTLB_IVT));
    return IMS_VTD_MMIO_OK;
}

static void write_fsts(ims_vtd_regfile *rf, uint32_t val)
{
    uint32_t before = ims_vtd_regfile_fsts(rf);
    rf->fsts &= ~(val & FSTS_RW1C_BITS);
    fault_status_changed(rf, before);
    /* Clearing the last stall condition lets the queue engine fetch again. */
    if ((before & FSTS_STALL_BITS) && !ims_vtd_regfile_qi_stalled(rf) && qies(rf) && rf->iqh != rf->iqt)
        doorbell(rf);
}

static void write_frcd_qw1(ims_vtd_regfile *rf, unsigned i, uint64_t val, uint64_t wmask)
{
    const uint64_t f = M64(IMS_VTD_FRCD_F);
    if (!(wmask & val & f) || !(rf->frcd[i][1] & f))
        return;
    uint32_t before = ims_vtd_regfile_fsts(rf);
    rf->frcd[i][1] &= ~f;
    fault_status_changed(rf, before);
}

static uint64_t rtaddr_mask(const ims_vtd_regfile *rf)
{
    uint64_t m = M64(IMS_VTD_RTADDR_RTA);
    if (ims_vtd_ecap_smts(rf->ecap))
        m |= IMS_VTD_PUT(IMS_VTD_RTADDR_TTM, 1);
    if (ims_vtd_ecap_adms(rf->ecap))
        m |= IMS_VTD_PUT(IMS_VTD_RTADDR_TTM, 2);
    return m;
}

static ev_regs *ev_of(ims_vtd_regfile *rf, reg_id id)
{
    switch (id) {
    case R_FEDATA: case R_FEADDR: case R_FEUADDR: return &rf->fe;
    case R_IEDATA: case R_IEADDR: case R_IEUADDR: return &rf->ie;
    default: return &rf->pe;
    }
}

/* Write val under wmask (the bytes the access covers; all of a 32-bit one). */
static int reg_write(ims_vtd_regfile *rf, const reg_loc *l, uint64_t val, uint64_t wmask)
{
    uint64_t m;
    switch (l->id) {
    case R_NONE:
        return IMS_VTD_MMIO_UNMAPPED;
    case R_VER: case R_CAP: case R_ECAP: case R_GSTS: case R_IQH: case R_IQERCD: case R_PQT: case R_FRCD_QW0:
        rf->cnt.ro_writes++;
        return IMS_VTD_MMIO_OK;
    case R_GCMD: return write_gcmd(rf, (uint32_t)val);
    case R_RTADDR: rf->rtaddr = merge(rf->rtaddr, val, wmask) & rtaddr_mask(rf); break;
    case R_CCMD: return write_ccmd(rf, val, wmask);
    case R_FSTS: write_fsts(rf, (uint32_t)val); break;
    case R_FECTL: write_ectl(rf, &rf->fe, (uint32_t)val, &rf->cnt.msi_fault); break;
    case R_IECTL: write_ectl(rf, &rf->ie, (uint32_t)val, &rf->cnt.msi_inv); break;
    case R_PECTL: write_ectl(rf, &rf->pe, (uint32_t)val, &rf->cnt.msi_prq); break;
    case R_FEDATA: case R_IEDATA: case R_PEDATA: ev_of(rf, l->id)->data = (uint32_t)val & M(IMS_VTD_EDATA_IMD); break;
    case R_FEADDR: case R_IEADDR: case R_PEADDR: ev_of(rf, l->id)->addr = (uint32_t)val & M(IMS_VTD_EADDR_MA); break;
    case R_FEUADDR: case R_IEUADDR: case R_PEUADDR: ev_of(rf, l->id)->uaddr = (uint32_t)val; break;
    case R_IQT:
        rf->iqt = merge(rf->iqt, val, wmask) & M64(IMS_VTD_IQT_QT);
        if ((wmask & M64(IMS_VTD_IQT_QT)) && qies(rf) && !ims_vtd_regfile_qi_stalled(rf))
            doorbell(rf);
        break;
    case R_IQA:
        m = M64(IMS_VTD_IQA_IQA) | M64(IMS_VTD_IQA_QS);
        if (ims_vtd_ecap_smts(rf->ecap))
            m |= M64(IMS_VTD_IQA_DW);
        rf->iqa = merge(rf->iqa, val, wmask) & m;
        break;
    case R_ICS:
        if (val & rf->ics & M(IMS_VTD_ICS_IWC)) {
            rf->ics &= ~M(IMS_VTD_ICS_IWC);
            rf->ie.ctl &= ~M(IMS_VTD_ECTL_IP);
        }
        break;
    case R_IRTA:
        m = M64(IMS_VTD_IRTA_IRTA) | M64(IMS_VTD_IRTA_S);
        if (ims_vtd_ecap_eim(rf->ecap))
            m |= M64(IMS_VTD_IRTA_EIME);
        rf->irta = merge(rf->irta, val, wmask) & m;
        break;
    case R_PQH: rf->pqh = merge(rf->pqh, val, wmask) & M64(IMS_VTD_PQH_PQH); break;
    case R_PQA: rf->pqa = merge(rf->pqa, val, wmask) & (M64(IMS_VTD_PQA_PQA) | M64(IMS_VTD_PQA_PQS)); break;
    case R_PRS:
        rf->prs &= ~((uint32_t)val & PRS_BITS);
        if (!(rf->prs & PRS_BITS))
            rf->pe.ctl &= ~M(IMS_VTD_ECTL_IP);
        break;
    case R_IVA:
        m = M64(IMS_VTD_IVA_ADDR) | M64(IMS_VTD_IVA_IH) | M64(IMS_VTD_IVA_AM);
        rf->iva = merge(rf->iva, val, wmask) & m;
        break;
    case R_IOTLB: return write_iotlb(rf, val, wmask);
    case R_FRCD_QW1: write_frcd_qw1(rf, l->idx, val, wmask); break;
    }
    return IMS_VTD_MMIO_OK;
}

static uint64_t reg_read(const ims_vtd_regfile *rf, const reg_loc *l)
{
    switch (l->id) {
    case R_NONE: return 0;
    case R_VER: return rf->ver;
    case R_CAP: return rf->cap;
    case R_ECAP: return rf->ecap;
    case R_GCMD: return 0; /* write-only */
    case R_GSTS: return rf->gsts;
    case R_RTADDR: return rf->rtaddr;
    case R_CCMD: return rf->ccmd;
    case R_FSTS: return ims_vtd_regfile_fsts(rf);
    case R_FECTL: return rf->fe.ctl;
    case R_FEDATA: return rf->fe.data;
    case R_FEADDR: return rf->fe.addr;
    case R_FEUADDR: return rf->fe.uaddr;
    case R_IQH: return rf->iqh;
    case R_IQT: return rf->iqt;
    case R_IQA: return rf->iqa;
    case R_ICS: return rf->ics;
    case R_IECTL: return rf->ie.ctl;
    case R_IEDATA: return rf->ie.data;
    case R_IEADDR: return rf->ie.addr;
    case R_IEUADDR: return rf->ie.uaddr;
    case R_IQERCD: return rf->iqercd;
    case R_IRTA: return rf->irta;
    case R_PQH: return rf->pqh;
    case R_PQT: return rf->pqt;
    case R_PQA: return rf->pqa;
    case R_PRS: return rf->prs;
    case R_PECTL: return rf->pe.ctl;
    case R_PEDATA: return rf->pe.data;
    case R_PEADDR: return rf->pe.addr;
    case R_PEUADDR: return rf->pe.uaddr;
    case R_IVA: return rf->iva;
    case R_IOTLB: return rf->iotlb;
    case R_FRCD_QW0: return rf->frcd[l->idx][0];
    case R_FRCD_QW1: return rf->frcd[l->idx][1];
    }
    return 0;
}

/* ---- MMIO entry points --------------------------------------------------------- */

static int max_status(int a, int b) { return a > b ? a : b; }

static int read32(ims_vtd_regfile *rf, uint64_t off, uint32_t *val)
{
    reg_loc l = locate(rf, off);
    if (l.id == R_NONE) {
        *val = 0;
        return IMS_VTD_MMIO_UNMAPPED;
    }
    *val = (uint32_t)(reg_read(rf, &l) >> (8 * (off - l.base)));
    return IMS_VTD_MMIO_OK;
}

static int write32(ims_vtd_regfile *rf, uint64_t off, uint32_t val)
{
    reg_loc l = locate(rf, off);
    unsigned shift = (unsigned)(8 * (off - l.base));
    return reg_write(rf, &l, (uint64_t)val << shift, UINT64_C(0xffffffff) << shift);
}

static bool bad_access(uint64_t off, unsigned size) { return (size != 4 && size != 8) || off % size != 0; }

static int count(int status, uint64_t *unmapped)
{
    if (status == IMS_VTD_MMIO_UNMAPPED)
        (*unmapped)++;
    return status;
}

static int mmio_read(ims_vtd_regfile *rf, uint64_t off, unsigned size, uint64_t *val)
{
    if (size == 8) {
        reg_loc l = locate(rf, off);
        if (l.width == 8) {
            *val = reg_read(rf, &l);
            return IMS_VTD_MMIO_OK;
        }
        uint32_t lo, hi;
        int s = max_status(read32(rf, off, &lo), read32(rf, off + 4, &hi));
        *val = ((uint64_t)hi << 32) | lo;
        return s;
    }
    uint32_t v;
    int s = read32(rf, off, &v);
    *val = v;
    return s;
}

static int mmio_write(ims_vtd_regfile *rf, uint64_t off, unsigned size, uint64_t val)
{
    if (size == 8) {
        reg_loc l = locate(rf, off);
        if (l.width == 8)
            return reg_write(rf, &l, val, ~UINT64_C(0));
        int s = write32(rf, off, (uint32_t)val);
        return max_status(s, write32(rf, off + 4, (uint32_t)(val >> 32)));
    }
    return write32(rf, off, (uint32_t)val);
}

/* Counted once per access, however many dwords it spans. */
int ims_vtd_mmio_read(ims_vtd_regfile *rf, uint64_t off, unsigned size, uint64_t *val)
{
    *val = 0;
    if (bad_access(off, size))
        return -EINVAL;
    return count(mmio_read(rf, off, size, val), &rf->cnt.unmapped_reads);
}

int ims_vtd_mmio_write(ims_vtd_regfile *rf, uint64_t off, unsigned size, uint64_t val)
{
    if (bad_access(off, size))
        return -EINVAL;
    return count(mmio_write(rf, off, size, val), &rf->cnt.unmapped_writes);
}

/* ---- lifecycle ------------------------------------------------------------------ */

void ims_vtd_regfile_reset(ims_vtd_regfile *rf)
{
    uint64_t cap = rf->cap, ecap = rf->ecap;
    uint32_t ver = rf->ver;
    ims_vtd_reg_hooks hooks = rf->hooks;
    memset(rf, 0, sizeof *rf);
    rf->cap = cap;
    rf->ecap = ecap;
    rf->ver = ver;
    rf->hooks = hooks;
    rf->frcd_base = ims_vtd_cap_frcd_offset(cap);
    rf->nfrcd = ims_vtd_cap_num_frcd(cap);
    rf->iotlb_base = ims_vtd_ecap_iotlb_offset(ecap);
    rf->fe.ctl = rf->ie.ctl = rf->pe.ctl = M(IMS_VTD_ECTL_IM);
}

int ims_vtd_regfile_create(uint64_t cap, uint64_t ecap, uint32_t ver, const ims_vtd_reg_hooks *hooks,
                           ims_vtd_regfile **out, ims_error *err)
{
    *out = NULL;
    if (ver > 0xff)
        return ims_errorf(err, EINVAL, "vtd: VER 0x%x has bits above 7:0", ver);
    uint64_t fb = ims_vtd_cap_frcd_offset(cap);
    uint64_t fe = fb + (uint64_t)IMS_VTD_FRCD_SIZE * ims_vtd_cap_num_frcd(cap);
    uint64_t ib = ims_vtd_ecap_iotlb_offset(ecap), ie = ib + 16;
    if (fb < IMS_VTD_REG_FIXED_END)
        return ims_errorf(err, EINVAL, "vtd: CAP.FRO=0x%x puts fault records at 0x%llx, inside the fixed registers",
                          ims_vtd_cap_fro(cap), (unsigned long long)fb);
    if (ib < IMS_VTD_REG_FIXED_END)
        return ims_errorf(err, EINVAL, "vtd: ECAP.IRO=0x%x puts IVA/IOTLB at 0x%llx, inside the fixed registers",
                          ims_vtd_ecap_iro(ecap), (unsigned long long)ib);
    if (fb < ie && ib < fe)
        return ims_errorf(err, EINVAL, "vtd: fault records [0x%llx,0x%llx) overlap IVA/IOTLB at 0x%llx",
                          (unsigned long long)fb, (unsigned long long)fe, (unsigned long long)ib);
    ims_vtd_regfile *rf = calloc(1, sizeof *rf);
    if (!rf)
        return ims_errorf(err, ENOMEM, "vtd: out of memory for the register file");
    rf->cap = cap;
    rf->ecap = ecap;
    rf->ver = ver;
    if (hooks)
        rf->hooks = *hooks;
    ims_vtd_regfile_reset(rf);
    *out = rf;
    return 0;
}

int ims_vtd_regfile_create_cfg(const ims_config *cfg, const ims_vtd_reg_hooks *hooks, ims_vtd_regfile **out,
                               ims_error *err)
{
    return ims_vtd_regfile_create(ims_config_u64(cfg, "vtd.cap"), ims_config_u64(cfg, "vtd.ecap"),
                                  (uint32_t)ims_config_u64(cfg, "vtd.ver"), hooks, out, err);
}

void ims_vtd_regfile_destroy(ims_vtd_regfile *rf) { free(rf); }

void ims_vtd_regfile_set_hooks(ims_vtd_regfile *rf, const ims_vtd_reg_hooks *hooks)
{
    if (hooks)
        rf->hooks = *hooks;
    else
        memset(&rf->hooks, 0, sizeof rf->hooks);
}

uint64_t ims_vtd_regfile_window_size(const ims_vtd_regfile *rf)
{
    uint64_t end = IMS_VTD_REG_FIXED_END;
    uint64_t fe = rf->frcd_base + (uint64_t)IMS_VTD_FRCD_SIZE * rf->nfrcd;
    if (fe > end)
        end = fe;
    if (rf->iotlb_base + 16 > end)
        end = rf->iotlb_base + 16;
    return (end + 0xfff) & ~UINT64_C(0xfff);
}

const ims_vtd_regfile_counters *ims_vtd_regfile_counters_get(const ims_vtd_regfile *rf) { return &rf->cnt; }

/* ---- state accessors and engine interface ----------------------------------- */

uint64_t ims_vtd_regfile_cap(const ims_vtd_regfile *rf) { return rf->cap; }
uint64_t ims_vtd_regfile_ecap(const ims_vtd_regfile *rf) { return rf->ecap; }
uint32_t ims_vtd_regfile_gsts(const ims_vtd_regfile *rf) { return rf->gsts; }
uint64_t ims_vtd_regfile_rtaddr(const ims_vtd_regfile *rf) { return rf->rtaddr_active; }
bool ims_vtd_regfile_te(const ims_vtd_regfile *rf) { return ims_vtd_gsts_tes(rf->gsts); }
bool ims_vtd_regfile_qie(const ims_vtd_regfile *rf) { return qies(rf); }

#define XSTATE_AT(f) (offsetof(struct ims_vtd_regfile, f) == offsetof(ims_vtd_regfile_xstate, f))
_Static_assert(offsetof(struct ims_vtd_regfile, xstate) == 0 && XSTATE_AT(cap) && XSTATE_AT(ecap) &&
                   XSTATE_AT(rtaddr_active) && XSTATE_AT(gsts),
               "the translation state must be the regfile's leading fields");
#undef XSTATE_AT

void ims_vtd_regfile_hw(const ims_vtd_regfile *rf, ims_physmem *mem, ims_vtd_hw *hw)
{
    *hw = (ims_vtd_hw){0};
    hw->mem = mem;
    hw->cap = rf->cap;
    hw->ecap = rf->ecap;
    hw->rtaddr = rf->rtaddr_active;
    hw->te = ims_vtd_regfile_te(rf);
}

uint64_t ims_vtd_regfile_iqa(const ims_vtd_regfile *rf) { return rf->iqa; }
uint64_t ims_vtd_regfile_iqh(const ims_vtd_regfile *rf) { return rf->iqh; }
uint64_t ims_vtd_regfile_iqt(const ims_vtd_regfile *rf) { return rf->iqt; }
void ims_vtd_regfile_set_iqh(ims_vtd_regfile *rf, uint64_t iqh) { rf->iqh = iqh & M64(IMS_VTD_IQH_QH); }

static void raise_fsts(ims_vtd_regfile *rf, uint32_t bit)
{
    uint32_t before = ims_vtd_regfile_fsts(rf);
    rf->fsts |= bit;
    fault_status_changed(rf, before);
}

void ims_vtd_regfile_raise_iqe(ims_vtd_regfile *rf, unsigned iqei)
{
    rf->iqercd = IMS_VTD_SET(IMS_VTD_IQERCD_IQEI, rf->iqercd, iqei);
    raise_fsts(rf, M(IMS_VTD_FSTS_IQE));
}

void ims_vtd_regfile_raise_ice(ims_vtd_regfile *rf, uint16_t sid)
{
    rf->iqercd = IMS_VTD_SET(IMS_VTD_IQERCD_ICESID, rf->iqercd, sid);
    raise_fsts(rf, M(IMS_VTD_FSTS_ICE));
}

void ims_vtd_regfile_raise_ite(ims_vtd_regfile *rf, uint16_t sid)
{
    rf->iqercd = IMS_VTD_SET(IMS_VTD_IQERCD_ITESID, rf->iqercd, sid);
    raise_fsts(rf, M(IMS_VTD_FSTS_ITE));
}

void ims_vtd_regfile_set_iwc(ims_vtd_regfile *rf)
{
    if (rf->ics & M(IMS_VTD_ICS_IWC))
        return; /* already set: no new event */
    rf->ics |= M(IMS_VTD_ICS_IWC);
    event_raise(rf, &rf->ie, &rf->cnt.msi_inv);
}

uint64_t ims_vtd_regfile_pqa(const ims_vtd_regfile *rf) { return rf->pqa; }
uint64_t ims_vtd_regfile_pqh(const ims_vtd_regfile *rf) { return rf->pqh; }
uint64_t ims_vtd_regfile_pqt(const ims_vtd_regfile *rf) { return rf->pqt; }
void ims_vtd_regfile_set_pqt(ims_vtd_regfile *rf, uint64_t pqt) { rf->pqt = pqt & M64(IMS_VTD_PQT_PQT); }

void ims_vtd_regfile_raise_prs(ims_vtd_regfile *rf, bool ppr, bool pro)
{
    uint32_t before = rf->prs;
    rf->prs |= (ppr ? M(IMS_VTD_PRS_PPR) : 0) | (pro ? M(IMS_VTD_PRS_PRO) : 0);
    if (!(before & PRS_BITS) && (rf->prs & PRS_BITS))
        event_raise(rf, &rf->pe, &rf->cnt.msi_prq);
}

unsigned ims_vtd_regfile_num_frcd(const ims_vtd_regfile *rf) { return rf->nfrcd; }

void ims_vtd_regfile_frcd_get(const ims_vtd_regfile *rf, unsigned i, uint64_t *qw0, uint64_t *qw1)
{
    assert(i < rf->nfrcd);
    *qw0 = rf->frcd[i][0];
    *qw1 = rf->frcd[i][1];
}

void ims_vtd_regfile_frcd_put(ims_vtd_regfile *rf, unsigned i, uint64_t qw0, uint64_t qw1)
{
    assert(i < rf->nfrcd);
    const uint64_t qw1_reserved = IMS_VTD_MASK_(16, 12); /* bits 91:80 */
    uint32_t before = ims_vtd_regfile_fsts(rf);
    rf->frcd[i][0] = qw0 & M64(IMS_VTD_FRCD_FI);
    rf->frcd[i][1] = qw1 & ~qw1_reserved;
    fault_status_changed(rf, before);
}

unsigned ims_vtd_regfile_frcd_next(const ims_vtd_regfile *rf) { return rf->frcd_next; }

void ims_vtd_regfile_set_frcd_next(ims_vtd_regfile *rf, unsigned i)
{
    assert(i < rf->nfrcd);
    rf->frcd_next = i;
}

void ims_vtd_regfile_set_fri(ims_vtd_regfile *rf, unsigned i)
{
    rf->fsts = (uint32_t)IMS_VTD_SET(IMS_VTD_FSTS_FRI, rf->fsts, i);
}

void ims_vtd_regfile_raise_pfo(ims_vtd_regfile *rf) { raise_fsts(rf, M(IMS_VTD_FSTS_PFO)); }
