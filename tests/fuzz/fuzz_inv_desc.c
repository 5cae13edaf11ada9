/* Fuzz target: the invalidation-descriptor decoder (models/vtd/inv_desc.h) and
 * the ATS range codec. Input layout (missing bytes read as zero; CAP/ECAP
 * default to the model's unit when absent):
 *   [0,32)  qw0..qw3, little-endian
 *   [32,40) CAP   [40,48) ECAP
 *   [48]    bit 0: 256-bit queue; bit 3: use the per-mode decoder with
 *           TTM = bits 2:1
 * Any input must decode to 0 or an IQEI code without a crash, and a decoded
 * descriptor rebuilt by the builders must decode to the same thing using only
 * bits of the original. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "models/dev/ats_range.h"
#include "models/vtd/inv_desc.h"
#include "models/vtd/regs.h"

static uint64_t le64(const uint8_t *data, size_t size, size_t off, uint64_t dflt)
{
    if (off + 8 > size)
        return dflt;
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)data[off + i] << (8 * i);
    return v;
}

static void check_ats(uint64_t addr, bool s)
{
    ims_ats_range r;
    if (ims_ats_range_decode(addr, s, &r) != 0)
        return;
    uint64_t a2;
    bool s2;
    int e = ims_ats_range_encode(&r, &a2, &s2);
    assert(e == 0);
    assert(a2 == (addr & ~UINT64_C(0xFFF)) && s2 == s);
    assert(ims_ats_range_last(&r) >= r.base);
}

static void check_span(uint64_t start, uint64_t size, unsigned mamv)
{
    ims_qi_psi_span sp;
    if (ims_qi_psi_span_of(start, size, mamv, &sp) != 0) {
        assert(size == 0 || size - 1 > UINT64_MAX - start);
        return;
    }
    uint64_t first, last;
    ims_qi_am_span(sp.addr, sp.am, &first, &last);
    assert(first <= start && last >= start + (size - 1));
    assert(sp.over_mamv == (sp.am > mamv));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t qw[IMS_QI_DESC_QW];
    for (unsigned i = 0; i < IMS_QI_DESC_QW; i++)
        qw[i] = le64(data, size, 8 * i, 0);
    uint64_t cap = le64(data, size, 32, IMS_VTD_DEFAULT_CAP);
    uint64_t ecap = le64(data, size, 40, IMS_VTD_DEFAULT_ECAP);
    uint8_t flags = size > 48 ? data[48] : 1;
    bool dw256 = flags & 1;
    unsigned nqw = dw256 ? 4u : 2u;

    ims_qi_desc d;
    int r = (flags & 8) ? ims_qi_decode_mode(qw, dw256, (flags >> 1) & 3u, cap, ecap, &d)
                        : ims_qi_decode(qw, dw256, cap, ecap, &d);
    assert(r == 0 || r == IMS_VTD_IQEI_BAD_TYPE || r == IMS_VTD_IQEI_RESERVED || r == IMS_VTD_IQEI_BAD_WIDTH ||
           r == IMS_VTD_IQEI_BAD_TTM);
    assert((unsigned)d.type == ims_qi_type_of(qw));

    char big[256], small[8];
    int n = ims_qi_desc_format(&d, big, sizeof big);
    assert(n > 0 && (size_t)n < sizeof big);
    assert(ims_qi_desc_format(&d, small, sizeof small) == n);
    assert(strlen(small) == sizeof small - 1);

    if (r == 0) {
        uint64_t again[IMS_QI_DESC_QW];
        int e = ims_qi_encode(&d, again);
        if (e != 0) {
            /* Only a device-TLB ADDR with no terminating zero has no builder form. */
            assert(d.type == IMS_QI_TYPE_DEV_TLB || d.type == IMS_QI_TYPE_PDEV_TLB);
        } else {
            for (unsigned i = 0; i < IMS_QI_DESC_QW; i++)
                assert((again[i] & ~(i < nqw ? qw[i] : 0)) == 0);
            ims_qi_desc d2;
            int r2 = ims_qi_decode(again, dw256, cap, ecap, &d2);
            assert(r2 == 0);
            /* Both come from the decoder, which zeroes the whole struct. */
            assert(memcmp(&d, &d2, sizeof d) == 0);
        }
    }

    check_ats(qw[1], qw[1] & 1);
    check_ats(qw[1], (qw[1] >> 11) & 1);
    check_span(qw[0], qw[1], (unsigned)(qw[2] & 63));
    return 0;
}
