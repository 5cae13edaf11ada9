/* The VT-d MMIO register file of one remapping unit.
 *
 * Holds the architected registers and applies their architected side effects
 * on MMIO access: read-only registers ignore writes, RW1C status bits, reserved
 * bits read 0, GCMD commands reflected in GSTS, register-based context-cache
 * and IOTLB invalidation, event interrupts (FECTL/IECTL/PECTL) with their
 * mask/pending rules. Everything else (cache invalidation, queue processing,
 * MSI delivery) happens in the caller through hooks, synchronously, after the
 * register state is consistent, so a hook may call back into the register file.
 *
 * Model decisions (documented in docs/vtd-model.md):
 *  - A GCMD write that asks for more than one command (one-shot bit set, or an
 *    enable bit that differs from GSTS) is rejected as a whole.
 *  - Clearing QIE is refused unless the queue is idle (IQH == IQT) or fetching is
 *    stopped by IQE/ITE; QIES then stays 1.
 *  - CCMD/IOTLB register invalidations are not performed on a unit whose
 *    VER major version is 6 or higher, or whose active TTM (latched by SRTP)
 *    is not legacy (VT-d 5.10 §6.5, §11.4.6.1 CAIG, §11.4.6.3 IAIG), nor
 *    while QIES=1 (model decision), nor with request granularity 0. Such a
 *    write stores the software fields as usual, then ICC/IVT read back 0 and
 *    CAIG/IAIG read 00b ("Error"); no hook is called; status REJECTED. A
 *    page-selective IOTLB request with CAP.PSI=0 is performed as
 *    domain-selective (IAIG=2); one with IVA.AM > CAP.MAMV is not performed.
 *  - Registers of absent features (IQ registers without ECAP.QI, IRTA without
 *    ECAP.IR, PQ registers without ECAP.PRS) behave like unknown offsets.
 * Rejections and unknown offsets return a positive status (not an error) and
 * are counted, so a trace replay can flag them. */
#ifndef IMS_VTD_REGFILE_H
#define IMS_VTD_REGFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "models/vtd/regs.h"
#include "models/vtd/translate.h"
#include "sim/config.h"
#include "sim/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_vtd_regfile ims_vtd_regfile;

/* All hooks are optional (NULL). They run synchronously inside the MMIO write
 * (or engine call) that caused them. */
typedef struct ims_vtd_reg_hooks {
    void *ctx;
    /* GCMD.SRTP: rtaddr (RTA | TTM) is now the active root pointer. */
    void (*on_srtp)(void *ctx, uint64_t rtaddr);
    /* GCMD.TE changed GSTS.TES. */
    void (*on_te_change)(void *ctx, bool enabled);
    /* There may be descriptors to fetch between IQH and iqt: IQT written while QI
     * is enabled and not stalled, QI enabled with IQT != 0, or software cleared
     * the last of IQE/ITE (fetching resumes). */
    void (*on_doorbell)(void *ctx, uint64_t iqt);
    /* Register-based context-cache invalidation. ccmd has ICC=1 and CAIG set to
     * the granularity to perform; the register reads ICC=0 afterwards. */
    void (*on_ccmd)(void *ctx, uint64_t ccmd);
    /* Register-based IOTLB invalidation: IVA, and IOTLB with IVT=1 and IAIG set. */
    void (*on_iotlb_reg)(void *ctx, uint64_t iva, uint64_t iotlb);
    /* GCMD.WBF (only with CAP.RWBF): flush write buffers. WBFS reads 0 after. */
    void (*on_wbf)(void *ctx);
    /* An event interrupt: fault (FEADDR/FEDATA), invalidation completion
     * (IE*) or page request (PE*). addr = UADDR:ADDR. */
    void (*msi)(void *ctx, uint64_t addr, uint32_t data);
} ims_vtd_reg_hooks;

/* MMIO status (non-negative; negative values are errno errors). */
enum ims_vtd_mmio_status {
    IMS_VTD_MMIO_OK = 0,
    IMS_VTD_MMIO_UNMAPPED = 1, /* no register there: read 0 / write ignored */
    IMS_VTD_MMIO_REJECTED = 2, /* architected register, command not performed */
};

typedef struct ims_vtd_regfile_counters {
    uint64_t unmapped_reads, unmapped_writes;
    uint64_t ro_writes;        /* writes to read-only registers (ignored) */
    uint64_t rejected;         /* REJECTED statuses */
    uint64_t ccmd_invalidations, iotlb_invalidations;
    uint64_t msi_fault, msi_inv, msi_prq;
} ims_vtd_regfile_counters;

/* Create a unit with the given capability registers (ver is VER[7:0]).
 * -EINVAL when ver has bits above 7:0, or the FRCD (CAP.FRO, CAP.NFR) or IOTLB
 * (ECAP.IRO) registers overlap the fixed registers or each other. */
int ims_vtd_regfile_create(uint64_t cap, uint64_t ecap, uint32_t ver, const ims_vtd_reg_hooks *hooks,
                           ims_vtd_regfile **out, ims_error *err);
/* Same, from the vtd.cap / vtd.ecap / vtd.ver keys (vtd_config.h). */
int ims_vtd_regfile_create_cfg(const ims_config *cfg, const ims_vtd_reg_hooks *hooks, ims_vtd_regfile **out,
                               ims_error *err);
void ims_vtd_regfile_destroy(ims_vtd_regfile *rf);
void ims_vtd_regfile_set_hooks(ims_vtd_regfile *rf, const ims_vtd_reg_hooks *hooks);
/* Hardware reset: every register to its reset value (FECTL/IECTL/PECTL.IM=1). */
void ims_vtd_regfile_reset(ims_vtd_regfile *rf);

/* MMIO at a byte offset from the register base. size is 4 or 8 and off must be
 * size-aligned (else -EINVAL). An 8-byte access to two 32-bit registers is two
 * 4-byte accesses (low first); a 4-byte access to a 64-bit register touches
 * that half. Returns an ims_vtd_mmio_status or -EINVAL; *val is always set. */
int ims_vtd_mmio_read(ims_vtd_regfile *rf, uint64_t off, unsigned size, uint64_t *val);
int ims_vtd_mmio_write(ims_vtd_regfile *rf, uint64_t off, unsigned size, uint64_t val);
/* Bytes of register space used, rounded up to 4 KiB (the DRHD window). */
uint64_t ims_vtd_regfile_window_size(const ims_vtd_regfile *rf);

const ims_vtd_regfile_counters *ims_vtd_regfile_counters_get(const ims_vtd_regfile *rf);

/* ---- state for the translation and timing layers -------------------------- */
uint64_t ims_vtd_regfile_cap(const ims_vtd_regfile *rf);
uint64_t ims_vtd_regfile_ecap(const ims_vtd_regfile *rf);
uint32_t ims_vtd_regfile_gsts(const ims_vtd_regfile *rf);
/* Root pointer latched by the last SRTP (not the RTADDR register contents). */
uint64_t ims_vtd_regfile_rtaddr(const ims_vtd_regfile *rf);
bool ims_vtd_regfile_te(const ims_vtd_regfile *rf);
bool ims_vtd_regfile_qie(const ims_vtd_regfile *rf);
/* Fill the hardware state a translation needs (cap, ecap, active rtaddr, TE). */
void ims_vtd_regfile_hw(const ims_vtd_regfile *rf, ims_physmem *mem, ims_vtd_hw *hw);

/* The registers a translation reads: the leading fields of every regfile, so
 * that the accessor below inlines (the translation pipeline fills an
 * ims_vtd_hw at every stage of every request). Internal: only regfile.c
 * writes them. */
typedef struct ims_vtd_regfile_xstate {
    uint64_t cap, ecap;
    uint64_t rtaddr_active; /* root pointer latched by the last SRTP */
    uint32_t gsts;
} ims_vtd_regfile_xstate;

/* ims_vtd_regfile_hw, inline. */
static inline void ims_vtd_regfile_hw_fast(const ims_vtd_regfile *rf, ims_physmem *mem, ims_vtd_hw *hw)
{
    const ims_vtd_regfile_xstate *s = (const ims_vtd_regfile_xstate *)(const void *)rf;
    hw->mem = mem;
    hw->cap = s->cap;
    hw->ecap = s->ecap;
    hw->rtaddr = s->rtaddr_active;
    hw->te = ims_vtd_gsts_tes(s->gsts);
}

/* ---- invalidation-queue engine interface ----------------------------------- */
uint64_t ims_vtd_regfile_iqa(const ims_vtd_regfile *rf);
uint64_t ims_vtd_regfile_iqh(const ims_vtd_regfile *rf);
uint64_t ims_vtd_regfile_iqt(const ims_vtd_regfile *rf);
void ims_vtd_regfile_set_iqh(ims_vtd_regfile *rf, uint64_t iqh); /* masked to QH[18:4] */
/* Fetching is stopped while FSTS.IQE or FSTS.ITE is set. */
bool ims_vtd_regfile_qi_stalled(const ims_vtd_regfile *rf);
/* Set FSTS.IQE (+IQERCD.IQEI), .ICE (+ICESID), .ITE (+ITESID); fault event rules. */
void ims_vtd_regfile_raise_iqe(ims_vtd_regfile *rf, unsigned iqei);
void ims_vtd_regfile_raise_ice(ims_vtd_regfile *rf, uint16_t sid);
void ims_vtd_regfile_raise_ite(ims_vtd_regfile *rf, uint16_t sid);
/* A wait descriptor with IF=1 completed: set ICS.IWC (event when it was 0). */
void ims_vtd_regfile_set_iwc(ims_vtd_regfile *rf);

/* ---- page-request queue interface --------------------------------------- */
uint64_t ims_vtd_regfile_pqa(const ims_vtd_regfile *rf);
uint64_t ims_vtd_regfile_pqh(const ims_vtd_regfile *rf);
uint64_t ims_vtd_regfile_pqt(const ims_vtd_regfile *rf);
void ims_vtd_regfile_set_pqt(ims_vtd_regfile *rf, uint64_t pqt); /* masked to [18:5] */
/* Set PRS.PPR and/or PRS.PRO; page-request event when PRS goes from 0. */
void ims_vtd_regfile_raise_prs(ims_vtd_regfile *rf, bool ppr, bool pro);

/* ---- fault-recording interface (used by fault_record.c) ---------------------- */
unsigned ims_vtd_regfile_num_frcd(const ims_vtd_regfile *rf);
/* FSTS as software reads it (PPF computed from the FRCD F bits). */
uint32_t ims_vtd_regfile_fsts(const ims_vtd_regfile *rf);
void ims_vtd_regfile_frcd_get(const ims_vtd_regfile *rf, unsigned i, uint64_t *qw0, uint64_t *qw1);
/* Hardware store of a whole record; applies the fault event rules when PPF
 * goes 0->1. */
void ims_vtd_regfile_frcd_put(ims_vtd_regfile *rf, unsigned i, uint64_t qw0, uint64_t qw1);
/* The circular "next FRCD" index. */
unsigned ims_vtd_regfile_frcd_next(const ims_vtd_regfile *rf);
void ims_vtd_regfile_set_frcd_next(ims_vtd_regfile *rf, unsigned i);
void ims_vtd_regfile_set_fri(ims_vtd_regfile *rf, unsigned i);
/* Set FSTS.PFO (fault event rules apply). */
void ims_vtd_regfile_raise_pfo(ims_vtd_regfile *rf);

#ifdef __cplusplus
}
#endif
#endif
