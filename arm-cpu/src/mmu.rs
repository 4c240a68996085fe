//! Stage-1 address translation for the EL1&0 regime (VMSAv8-64, ARMv8.0): the page-table
//! walker the softmmu calls on a TLB miss ([`Stage1Walker`]) and the `AT S1E{0,1}{R,W}`
//! address translation instructions ([`at`]). Both use one walk ([`walk`]), generic over
//! where descriptors come from ([`DescReader`]), so tests and AT take the same path.
//!
//! What is implemented: 4 KiB, 16 KiB and 64 KiB granules on both TTBRs, T0SZ/T1SZ
//! clamped to 16..=39 (48- to 25-bit VAs), TBI0/TBI1 (for data and instruction
//! addresses, as ARMv8.0), EPD0/EPD1, block descriptors where ARMv8.0 allows them
//! (4K: level 1 and 2; 16K and 64K: level 2), APTable/UXNTable/PXNTable, AP[2:1], UXN,
//! PXN, SCTLR_EL1.WXN, "EL1 never executes EL0-writable memory", the access flag (no
//! hardware update), TCR_EL1.IPS limited to the 40-bit implemented PA size, and
//! SCTLR_EL1.M = 0 (flat map). Not implemented (not advertised): PAN, HPD, hardware
//! AF/dirty, 52-bit addresses, big-endian walks, the contiguous hint (ignored, which is
//! always allowed).
//!
//! # Fault encoding
//!
//! A fault is a 6-bit fault status code (FSC), exactly as ESR_EL1.{DFSC,IFSC} and
//! PAR_EL1.FST report it; `LL` is the lookup level (0..=3):
//!
//! | FSC        | fault                                            |
//! |------------|--------------------------------------------------|
//! | `0b0000LL` | address size fault                               |
//! | `0b0001LL` | translation fault                                |
//! | `0b0010LL` | access flag fault                                |
//! | `0b0011LL` | permission fault                                 |
//! | `0b0101LL` | synchronous external abort on translation walk   |
//!
//! The walker returns `WalkFault { kind: softmmu::fault::WALKER_BASE, info }` with the
//! FSC in `info` bits 0..=5 (all other bits zero). The softmmu records it in
//! `EnvHead::{fault, fault_info, fault_addr, fault_access}`; the CPU builds the
//! exception from that: an instruction abort (EC 0x20 from EL0 / 0x21 from EL1, IFSC =
//! FSC) when `fault_access` is `Access::Exec`, else a data abort (EC 0x24 / 0x25, DFSC =
//! FSC, WnR = 1 for writes), IL = 1, FAR_EL1 = `fault_addr`. All these FSCs leave
//! FAR valid.
//!
//! # Attributes of a translation
//!
//! `Translation::attrs` carries the MAIR_EL1 attribute byte of the page in bits 0..=7,
//! [`ATTR_DEVICE`] when that byte is a Device type (`0b0000xxxx`, so Device accesses must
//! be aligned). The softmmu's own part of the attributes says whether the descriptor had
//! nG = 1 (ASID-specific) and the size of the page or block
//! ([`Translation::with_mapping`]), so that TLBIs find every entry filled from it.

use crate::state::CpuEnv;
use crate::sysregs::slot;
use softmmu::layout::{PAGE_BITS, PAGE_MASK};
use softmmu::{Access, EnvHead, PageWalker, Perms, PhysAddr, PhysMap, Translation, WalkFault};

/// Implemented physical address size in bits (ID_AA64MMFR0_EL1.PARange = 0b0010).
pub const PA_BITS: u32 = 40;

/// `Translation::attrs` flag: the page is Device memory (MAIR byte `0b0000xxxx`).
pub const ATTR_DEVICE: u64 = 1 << 8;
/// Mask of the MAIR attribute byte in `Translation::attrs`.
pub const ATTR_MAIR_MASK: u64 = 0xff;

/// MAIR byte reported for data accesses with the MMU off: Device-nGnRnE.
const MAIR_DEVICE_NGNRNE: u8 = 0x00;
/// MAIR byte for Normal Inner/Outer Non-cacheable (instruction fetch, MMU and I-cache off).
const MAIR_NORMAL_NC: u8 = 0x44;
/// MAIR byte for Normal Inner/Outer Write-Through (instruction fetch, MMU off, I-cache on).
const MAIR_NORMAL_WT: u8 = 0x88;

const SCTLR_M: u64 = 1 << 0;
const SCTLR_I: u64 = 1 << 12;
const SCTLR_WXN: u64 = 1 << 19;

const TCR_EPD0: u64 = 1 << 7;
const TCR_A1: u64 = 1 << 22;
const TCR_EPD1: u64 = 1 << 23;
const TCR_AS: u64 = 1 << 36;
const TCR_TBI0: u64 = 1 << 37;
const TCR_TBI1: u64 = 1 << 38;

const DESC_VALID: u64 = 1 << 0;
const DESC_TABLE: u64 = 1 << 1;
const DESC_AP1: u64 = 1 << 6;
const DESC_AP2: u64 = 1 << 7;
const DESC_AF: u64 = 1 << 10;
const DESC_NG: u64 = 1 << 11;
const DESC_PXN: u64 = 1 << 53;
const DESC_UXN: u64 = 1 << 54;
const TABLE_PXN: u64 = 1 << 59;
const TABLE_UXN: u64 = 1 << 60;
const TABLE_AP0: u64 = 1 << 61;
const TABLE_AP1: u64 = 1 << 62;

/// Fault status codes (see the module documentation).
pub mod fsc {
    pub const ADDRESS_SIZE: u8 = 0b00_0000;
    pub const TRANSLATION: u8 = 0b00_0100;
    pub const ACCESS_FLAG: u8 = 0b00_1000;
    pub const PERMISSION: u8 = 0b00_1100;
    pub const EXTERNAL_ABORT_ON_WALK: u8 = 0b01_0100;

    pub const fn address_size(level: u8) -> u8 {
        ADDRESS_SIZE | (level & 3)
    }
    pub const fn translation(level: u8) -> u8 {
        TRANSLATION | (level & 3)
    }
    pub const fn access_flag(level: u8) -> u8 {
        ACCESS_FLAG | (level & 3)
    }
    pub const fn permission(level: u8) -> u8 {
        PERMISSION | (level & 3)
    }
    pub const fn external_abort_on_walk(level: u8) -> u8 {
        EXTERNAL_ABORT_ON_WALK | (level & 3)
    }

    /// The fault kind of `fsc` (one of the constants above), level removed.
    pub const fn kind(fsc: u8) -> u8 {
        fsc & 0b11_1100
    }
    /// The lookup level of `fsc`.
    pub const fn level(fsc: u8) -> u8 {
        fsc & 3
    }
    pub const fn is_external_abort(fsc: u8) -> bool {
        kind(fsc) == EXTERNAL_ABORT_ON_WALK
    }
}

/// The system registers a stage-1 EL1&0 walk depends on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Regs {
    pub sctlr: u64,
    pub tcr: u64,
    pub ttbr0: u64,
    pub ttbr1: u64,
    pub mair: u64,
}

impl Regs {
    pub fn from_sysregs(sysregs: &[u64; crate::sysregs::NUM_STORED]) -> Regs {
        Regs {
            sctlr: sysregs[slot::SCTLR],
            tcr: sysregs[slot::TCR],
            ttbr0: sysregs[slot::TTBR0],
            ttbr1: sysregs[slot::TTBR1],
            mair: sysregs[slot::MAIR],
        }
    }

    pub fn from_env(env: &CpuEnv) -> Regs {
        Regs::from_sysregs(&env.sysregs)
    }
}

/// The ASID bits TLB entries and TLBI operands compare: 16 with TCR_EL1.AS = 1, else 8.
pub fn asid_mask(tcr: u64) -> u16 {
    if tcr & TCR_AS != 0 {
        0xffff
    } else {
        0xff
    }
}

/// The current ASID of the EL1&0 regime: TTBR1_EL1's when TCR_EL1.A1 is set, else
/// TTBR0_EL1's (bits 63:48), limited to the ASID size.
pub fn current_asid(regs: &Regs) -> u16 {
    let ttbr = if regs.tcr & TCR_A1 != 0 {
        regs.ttbr1
    } else {
        regs.ttbr0
    };
    (ttbr >> 48) as u16 & asid_mask(regs.tcr)
}

/// Where a walk reads its 8-byte little-endian descriptors (guest physical memory).
/// `None` means nothing answers at `pa`: a synchronous external abort on the walk.
pub trait DescReader {
    fn read_desc(&self, pa: u64) -> Option<u64>;
}

impl DescReader for PhysMap {
    #[inline]
    fn read_desc(&self, pa: u64) -> Option<u64> {
        self.read(PhysAddr(pa), 8)
    }
}

impl<R: DescReader + ?Sized> DescReader for Option<&R> {
    #[inline]
    fn read_desc(&self, pa: u64) -> Option<u64> {
        self.and_then(|r| r.read_desc(pa))
    }
}

/// The result of a successful walk for one VA (before the permission check of an access).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walk {
    /// The output (physical) address of the VA itself, not page-aligned.
    pub pa: u64,
    /// What the regime allows at the privilege asked about (EL0 or EL1).
    pub perms: Perms,
    /// MAIR_EL1 attribute byte (Device-nGnRnE with the MMU off).
    pub mair_attr: u8,
    /// The descriptor's SH[1:0] (0b10 with the MMU off).
    pub sh: u8,
    /// The leaf descriptor had nG = 1.
    pub not_global: bool,
    /// Level of the leaf descriptor (permission faults are reported at it).
    pub level: u8,
    /// log2 of the size of the page or block the leaf maps (4 KiB with the MMU off).
    pub size_log2: u32,
    /// SCTLR_EL1.M was 0: flat map, attributes are those of a data access.
    pub mmu_off: bool,
}

impl Walk {
    pub fn is_device(&self) -> bool {
        self.mair_attr & 0xf0 == 0
    }

    /// The permission fault `access` would take, if any.
    pub fn check(&self, access: Access) -> Result<(), u8> {
        if self.perms.contains(perm_of(access)) {
            Ok(())
        } else {
            Err(fsc::permission(self.level))
        }
    }
}

fn perm_of(access: Access) -> Perms {
    match access {
        Access::Read => Perms::READ,
        Access::Write => Perms::WRITE,
        Access::Exec => Perms::EXEC,
    }
}

/// Mask of bits `hi..=lo` (`hi` <= 63); empty when `lo > hi`.
#[inline]
const fn bits(hi: u32, lo: u32) -> u64 {
    if lo > hi {
        0
    } else {
        (u64::MAX >> (63 - hi)) & (u64::MAX << lo)
    }
}

/// Output address size in bits for TCR_EL1.IPS, limited to the implemented PA size.
#[inline]
fn output_size(tcr: u64) -> u32 {
    let ips = match (tcr >> 32) & 7 {
        0 => 32,
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        _ => 48,
    };
    ips.min(PA_BITS)
}

/// log2 of the granule size for TTBR0 (`TG0`) or TTBR1 (`TG1`). The reserved encodings
/// behave as 4 KiB (an IMPLEMENTATION DEFINED choice the architecture allows).
#[inline]
fn granule_bits(tcr: u64, high: bool) -> u32 {
    if high {
        match (tcr >> 30) & 3 {
            1 => 14,
            3 => 16,
            _ => 12,
        }
    } else {
        match (tcr >> 14) & 3 {
            1 => 16,
            2 => 14,
            _ => 12,
        }
    }
}

/// Walks the stage-1 EL1&0 translation of `vaddr` for EL0 (`el0`) or EL1, reading
/// descriptors through `mem`. Returns the output address, permissions and attributes,
/// or the FSC of the fault. No access-specific check is done: see [`Walk::check`].
pub fn walk<R: DescReader + ?Sized>(
    regs: &Regs,
    mem: &R,
    vaddr: u64,
    el0: bool,
) -> Result<Walk, u8> {
    let tcr = regs.tcr;
    // VA bit 55 selects TTBR1 and TBI1; with top byte ignored, the check of the upper
    // VA bits stops at bit 55.
    let high = (vaddr >> 55) & 1 != 0;
    let tbi_bit = if high { TCR_TBI1 } else { TCR_TBI0 };
    let tbi = tcr & tbi_bit != 0;
    let top: u32 = if tbi { 55 } else { 63 };

    if regs.sctlr & SCTLR_M == 0 {
        if vaddr & bits(top, PA_BITS) != 0 {
            return Err(fsc::address_size(0));
        }
        return Ok(Walk {
            pa: vaddr & bits(PA_BITS - 1, 0),
            perms: Perms::all(),
            mair_attr: MAIR_DEVICE_NGNRNE,
            sh: 0b10,
            not_global: false,
            level: 0,
            size_log2: PAGE_BITS,
            mmu_off: true,
        });
    }

    let (txsz, disabled, ttbr) = if high {
        ((tcr >> 16) & 0x3f, tcr & TCR_EPD1 != 0, regs.ttbr1)
    } else {
        (tcr & 0x3f, tcr & TCR_EPD0 != 0, regs.ttbr0)
    };
    let inputsize = 64 - (txsz as u32).clamp(16, 39);
    // Bits top..=inputsize of the VA must all equal the select bit.
    let range = bits(top, inputsize);
    let expect = if high { range } else { 0 };
    if disabled || vaddr & range != expect {
        return Err(fsc::translation(0));
    }

    let grain = granule_bits(tcr, high);
    let stride = grain - 3;
    let first_block_level: u32 = if grain == 12 { 1 } else { 2 };
    let outsize = output_size(tcr);
    let oa_bad = bits(47, outsize);

    let mut level: u32 = 4 - (1 + (inputsize - grain - 1) / stride);
    // The start-level table holds 2^(inputsize - bottom) descriptors and is aligned to
    // its size; TTBR bits below that (and the ASID, bits 63:48) are not address bits.
    let start_bottom = (3 - level) * stride + grain;
    let mut table = ttbr & bits(47, 3 + inputsize - start_bottom);
    if table & oa_bad != 0 {
        return Err(fsc::address_size(0));
    }

    // Accumulated table attributes: no writes at any EL, no EL0 access, XN at EL0 / EL1.
    let mut tbl_ro = false;
    let mut tbl_no_el0 = false;
    let mut tbl_uxn = false;
    let mut tbl_pxn = false;
    let mut addr_top = inputsize - 1;
    loop {
        let bottom = (3 - level) * stride + grain;
        let index = (vaddr & bits(addr_top, bottom)) >> bottom;
        let lvl = level as u8;
        let desc = mem
            .read_desc(table | (index << 3))
            .ok_or(fsc::external_abort_on_walk(lvl))?;
        if desc & DESC_VALID == 0 || (level == 3 && desc & DESC_TABLE == 0) {
            return Err(fsc::translation(lvl));
        }
        if level == 3 || desc & DESC_TABLE == 0 {
            // Page (level 3) or block descriptor.
            if level < first_block_level {
                return Err(fsc::translation(lvl));
            }
            let pa = (desc & bits(47, bottom)) | (vaddr & bits(bottom - 1, 0));
            if pa & oa_bad != 0 {
                return Err(fsc::address_size(lvl));
            }
            if desc & DESC_AF == 0 {
                return Err(fsc::access_flag(lvl));
            }
            let read_only = desc & DESC_AP2 != 0 || tbl_ro;
            let el0_access = desc & DESC_AP1 != 0 && !tbl_no_el0;
            let uxn = desc & DESC_UXN != 0 || tbl_uxn;
            let pxn = desc & DESC_PXN != 0 || tbl_pxn;
            let wxn = regs.sctlr & SCTLR_WXN != 0;
            let user_w = el0_access && !read_only;
            let priv_w = !read_only;
            let (r, w, x) = if el0 {
                (el0_access, user_w, !(uxn || (user_w && wxn)))
            } else {
                (true, priv_w, !(pxn || (priv_w && wxn) || user_w))
            };
            let mut perms = Perms::empty();
            perms.set(Perms::READ, r);
            perms.set(Perms::WRITE, w);
            perms.set(Perms::EXEC, x);
            let attr_index = (desc >> 2) & 7;
            return Ok(Walk {
                pa,
                perms,
                mair_attr: (regs.mair >> (8 * attr_index)) as u8,
                sh: ((desc >> 8) & 3) as u8,
                not_global: desc & DESC_NG != 0,
                level: lvl,
                size_log2: bottom,
                mmu_off: false,
            });
        }
        // Table descriptor.
        if desc & oa_bad != 0 {
            return Err(fsc::address_size(lvl));
        }
        tbl_ro |= desc & TABLE_AP1 != 0;
        tbl_no_el0 |= desc & TABLE_AP0 != 0;
        tbl_uxn |= desc & TABLE_UXN != 0;
        tbl_pxn |= desc & TABLE_PXN != 0;
        table = desc & bits(47, grain);
        level += 1;
        addr_top = bottom - 1;
    }
}

/// The stage-1 EL1&0 walker the softmmu calls on a TLB miss. `mmu_idx` 0 translates for
/// EL0 (also LDTR/STTR at EL1), any other index for EL1.
pub struct Stage1Walker;

impl Stage1Walker {
    /// Translates one access for the TLB: the fault, or the 4 KiB page of `vaddr` with
    /// every access kind the regime allows there and the page's attributes.
    pub fn translate_with<R: DescReader + ?Sized>(
        regs: &Regs,
        mem: &R,
        vaddr: u64,
        access: Access,
        el0: bool,
    ) -> Result<Translation, u8> {
        let w = walk(regs, mem, vaddr, el0)?;
        w.check(access)?;
        let attr = if w.mmu_off && access == Access::Exec {
            // Instruction fetches with the MMU off are from Normal memory.
            if regs.sctlr & SCTLR_I != 0 {
                MAIR_NORMAL_WT
            } else {
                MAIR_NORMAL_NC
            }
        } else {
            w.mair_attr
        };
        let mut attrs = attr as u64;
        if attr & 0xf0 == 0 {
            attrs |= ATTR_DEVICE;
        }
        Ok(Translation {
            paddr_page: w.pa & PAGE_MASK,
            perms: w.perms,
            attrs,
        }
        .with_mapping(w.size_log2, w.not_global))
    }
}

impl PageWalker for Stage1Walker {
    fn translate(
        &self,
        env: *mut EnvHead,
        vaddr: u64,
        access: Access,
        mmu_idx: usize,
    ) -> Result<Translation, WalkFault> {
        let cpu = env as *const CpuEnv;
        // SAFETY: by the `PageWalker` contract `env` is the running vCPU's environment;
        // in this CPU that is a `#[repr(C)] CpuEnv` whose first field is the `EnvHead`, so
        // the cast pointer is valid for reads, and nothing writes the env during the walk.
        let (sysregs, ctx) = unsafe { (&(*cpu).sysregs, (*cpu).head.ctx) };
        let regs = Regs::from_sysregs(sysregs);
        // SAFETY: `ctx` is null or points at the vCPU's `MemCtx`, which outlives its env.
        let phys: Option<&PhysMap> = unsafe { ctx.as_ref() }.map(|c| &*c.phys);
        let el0 = mmu_idx == 0;
        let r = Stage1Walker::translate_with(&regs, &phys, vaddr, access, el0);
        if let Some(t) = vcpu_sched::trace::enabled(vcpu_sched::trace::Items::MMU) {
            let cpu = crate::cpu::index_of_mpidr(sysregs[slot::MPIDR]);
            let mut s = String::new();
            crate::trace::mmu_record(
                &mut s,
                cpu,
                vaddr,
                access,
                el0,
                &walk(&regs, &phys, vaddr, el0),
                &r,
            );
            t.write(&s);
        }
        r.map_err(|f| WalkFault {
            kind: softmmu::fault::WALKER_BASE,
            info: f as u64,
        })
    }
}

/// PAR_EL1 bit 0: the translation failed.
pub const PAR_F: u64 = 1 << 0;
/// PAR_EL1 bit 9 of a successful translation: Non-secure (this PE is Non-secure).
pub const PAR_NS: u64 = 1 << 9;
/// PAR_EL1 bit 11: RES1 in both formats.
pub const PAR_RES1: u64 = 1 << 11;

/// The PAR_EL1 value of an address translation instruction on `vaddr`: `AT S1E1R`
/// (`write = false, el0 = false`), `AT S1E1W`, `AT S1E0R` (`el0 = true`), `AT S1E0W`.
///
/// Success (F = 0): ATTR (bits 63:56) = the MAIR attribute byte (Device-nGnRnE, 0x00,
/// with the MMU off), PA[47:12], bit 11 RES1, NS (bit 9) = 1, SH (bits 8:7) = the
/// descriptor's, forced to 0b10 (Outer Shareable) for Device and Normal
/// Inner+Outer-Non-cacheable memory. Failure (F = 1): FST (bits 6:1) = the FSC, PTW
/// (bit 8) = 0, S (bit 9) = 0, bit 11 RES1. A synchronous external abort on the walk is
/// reported in the PAR too (FST = 0b0101LL, see [`fsc::is_external_abort`]); a CPU that
/// prefers to take it as a Data Abort can test for it.
pub fn at(env: &CpuEnv, vaddr: u64, write: bool, el0: bool, phys: &PhysMap) -> u64 {
    at_with(&Regs::from_env(env), phys, vaddr, write, el0)
}

/// [`at`] over any descriptor source.
pub fn at_with<R: DescReader + ?Sized>(
    regs: &Regs,
    mem: &R,
    vaddr: u64,
    write: bool,
    el0: bool,
) -> u64 {
    let access = if write { Access::Write } else { Access::Read };
    match walk(regs, mem, vaddr, el0).and_then(|w| w.check(access).map(|()| w)) {
        Ok(w) => {
            let sh = if w.is_device() || w.mair_attr == MAIR_NORMAL_NC {
                0b10
            } else {
                w.sh as u64
            };
            ((w.mair_attr as u64) << 56) | (w.pa & bits(47, 12)) | PAR_RES1 | PAR_NS | (sh << 7)
        }
        Err(f) => PAR_RES1 | ((f as u64 & 0x3f) << 1) | PAR_F,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use softmmu::MemCtx;
    use std::sync::Arc;

    const RAM: u64 = 0x4000_0000;
    const RAM_SIZE: u64 = 16 << 20;
    /// MAIR: 0 = Device-nGnRnE, 1 = Normal WB, 2 = Normal NC, 3 = Device-nGnRE.
    const MAIR: u64 = 0x04_44_ff_00;
    const SCTLR_ON: u64 = crate::sysregs::SCTLR_RESET | SCTLR_M;

    const TG0_4K: u64 = 0;
    const TG0_64K: u64 = 1;
    const TG0_16K: u64 = 2;
    const TG1_16K: u64 = 1;
    const TG1_4K: u64 = 2;
    const TG1_64K: u64 = 3;

    const AF: u64 = DESC_AF;
    const AP_EL0: u64 = DESC_AP1;
    const AP_RO: u64 = DESC_AP2;
    const SH_IS: u64 = 3 << 8;
    const NORMAL: u64 = 1 << 2;
    const NC: u64 = 2 << 2;
    const DEVICE: u64 = 0;

    fn tcr(t0sz: u64, tg0: u64, t1sz: u64, tg1: u64) -> u64 {
        t0sz | (tg0 << 14) | (t1sz << 16) | (tg1 << 30) | (2 << 32)
    }
    fn page(pa: u64, attrs: u64) -> u64 {
        pa | 3 | AF | attrs
    }
    fn block(pa: u64, attrs: u64) -> u64 {
        pa | 1 | AF | attrs
    }
    fn start_level(grain: u32, inputsize: u32) -> u32 {
        4 - (1 + (inputsize - grain - 1) / (grain - 3))
    }

    struct Fx {
        mem: Box<MemCtx>,
        env: Box<CpuEnv>,
        next: u64,
    }

    impl Fx {
        fn new() -> Fx {
            let mut phys = PhysMap::new();
            phys.add_ram("ram", PhysAddr(RAM), RAM_SIZE).unwrap();
            let mem = Box::new(MemCtx {
                phys: Arc::new(phys),
                walker: Box::new(Stage1Walker),
            });
            let mut env = Box::new(CpuEnv::new(&*mem));
            env.sysregs[slot::SCTLR] = crate::sysregs::SCTLR_RESET;
            env.sysregs[slot::MAIR] = MAIR;
            Fx {
                mem,
                env,
                next: RAM + (1 << 20),
            }
        }
        fn phys(&self) -> &PhysMap {
            &self.mem.phys
        }
        /// A zeroed, `size`-aligned block of RAM.
        fn alloc(&mut self, size: u64) -> u64 {
            let a = (self.next + size - 1) & !(size - 1);
            self.next = a + size;
            assert!(self.next <= RAM + RAM_SIZE);
            a
        }
        fn wr(&self, pa: u64, v: u64) {
            self.phys().write(PhysAddr(pa), 8, v).unwrap();
        }
        fn rd(&self, pa: u64) -> u64 {
            self.phys().read(PhysAddr(pa), 8).unwrap()
        }
        fn set(&mut self, sctlr: u64, tcr: u64, ttbr0: u64, ttbr1: u64) {
            let s = &mut self.env.sysregs;
            s[slot::SCTLR] = sctlr;
            s[slot::TCR] = tcr;
            s[slot::TTBR0] = ttbr0;
            s[slot::TTBR1] = ttbr1;
        }
        fn tr(
            &mut self,
            va: u64,
            access: Access,
            mmu_idx: usize,
        ) -> Result<Translation, WalkFault> {
            let env = &mut *self.env as *mut CpuEnv as *mut EnvHead;
            Stage1Walker.translate(env, va, access, mmu_idx)
        }
        /// The FSC of a faulting access (panics on success).
        fn fault(&mut self, va: u64, access: Access, mmu_idx: usize) -> u8 {
            let f = self.tr(va, access, mmu_idx).unwrap_err();
            assert_eq!(f.kind, softmmu::fault::WALKER_BASE);
            assert_eq!(f.info & !0x3f, 0);
            f.info as u8
        }
        fn pa(&mut self, va: u64, access: Access, mmu_idx: usize) -> u64 {
            self.tr(va, access, mmu_idx).unwrap().paddr_page
        }
        fn perms(&mut self, va: u64, mmu_idx: usize) -> Perms {
            self.tr(va, Access::Read, mmu_idx)
                .or_else(|_| self.tr(va, Access::Exec, mmu_idx))
                .unwrap()
                .perms
        }
        fn at(&self, va: u64, write: bool, el0: bool) -> u64 {
            at(&self.env, va, write, el0, self.phys())
        }
        /// A fresh root table for a `grain`-bit granule.
        fn root(&mut self, grain: u32) -> u64 {
            self.alloc(1 << grain)
        }
        /// Writes `leaf` as the level-`leaf_level` descriptor for `va` under `root`,
        /// creating (or reusing) the intermediate tables; returns the tables' addresses
        /// from the start level down to the leaf's table.
        fn map(
            &mut self,
            root: u64,
            grain: u32,
            inputsize: u32,
            va: u64,
            leaf_level: u32,
            leaf: u64,
        ) -> Vec<u64> {
            let stride = grain - 3;
            let mut level = start_level(grain, inputsize);
            let mut table = root;
            let mut top = inputsize - 1;
            let mut tables = vec![];
            loop {
                tables.push(table);
                let bottom = (3 - level) * stride + grain;
                let idx = (va & bits(top, bottom)) >> bottom;
                let da = table + idx * 8;
                if level == leaf_level {
                    self.wr(da, leaf);
                    return tables;
                }
                let d = self.rd(da);
                table = if d & 3 == 3 {
                    d & bits(47, grain)
                } else {
                    let t = self.alloc(1 << grain);
                    self.wr(da, t | 3);
                    t
                };
                level += 1;
                top = bottom - 1;
            }
        }
    }

    #[test]
    fn fsc_encoding() {
        assert_eq!(fsc::address_size(0), 0b00_0000);
        assert_eq!(fsc::translation(2), 0b00_0110);
        assert_eq!(fsc::access_flag(3), 0b00_1011);
        assert_eq!(fsc::permission(1), 0b00_1101);
        assert_eq!(fsc::external_abort_on_walk(0), 0b01_0100);
        assert_eq!(fsc::level(0b01_0111), 3);
        assert_eq!(fsc::kind(0b00_1110), fsc::PERMISSION);
        assert!(fsc::is_external_abort(0b01_0101));
        assert!(!fsc::is_external_abort(0b00_0101));
    }

    #[test]
    fn mmu_off_is_flat_with_device_data() {
        let mut f = Fx::new();
        let t = f.tr(0x4000_1234, Access::Read, 1).unwrap();
        assert_eq!(t.paddr_page, 0x4000_1000);
        assert_eq!(t.perms, Perms::all());
        assert_eq!(t.walker_attrs(), ATTR_DEVICE);
        assert_eq!((t.size_log2(), t.not_global()), (12, false));
        let t = f.tr(0x4000_1234, Access::Write, 0).unwrap();
        assert_eq!(t.walker_attrs(), ATTR_DEVICE);
        let t = f.tr(0x4000_1234, Access::Exec, 1).unwrap();
        assert_eq!(t.attrs & ATTR_DEVICE, 0);
        assert_eq!(t.walker_attrs(), MAIR_NORMAL_NC as u64);
        // Highest implemented PA, then the first address beyond it.
        assert_eq!(f.pa(0xff_ffff_ffff, Access::Read, 1), 0xff_ffff_f000);
        assert_eq!(
            f.fault(0x100_0000_0000, Access::Read, 1),
            fsc::address_size(0)
        );
        assert_eq!(
            f.fault(0x100_0000_0000, Access::Exec, 0),
            fsc::address_size(0)
        );
        assert_eq!(f.fault(0xffff_0000_0000_0000, Access::Read, 1), 0);
        // With TBI0 the top byte is ignored, bits 55:40 still count.
        assert_eq!(f.fault(0x5a00_0000_4000_0000, Access::Read, 1), 0);
        f.env.sysregs[slot::TCR] = TCR_TBI0;
        assert_eq!(f.pa(0x5a00_0000_4000_0000, Access::Read, 1), 0x4000_0000);
        assert_eq!(f.fault(0x5a00_0100_0000_0000, Access::Read, 1), 0);
        // AT with the MMU off: Device-nGnRnE, Outer Shareable.
        let par = f.at(0x4000_5678, false, false);
        assert_eq!(par, 0x4000_5000 | PAR_RES1 | PAR_NS | (0b10 << 7));
        assert_eq!(f.at(1 << 45, true, true), PAR_RES1 | PAR_F);
    }

    #[test]
    fn four_k_hand_built_four_levels() {
        let mut f = Fx::new();
        // VA 0x0000_0080_4060_3abc: L0 index 1, L1 index 1, L2 index 3, L3 index 3.
        let va = (1u64 << 39) | (1 << 30) | (3 << 21) | (3 << 12) | 0xabc;
        let l0 = f.alloc(0x1000);
        let l1 = f.alloc(0x1000);
        let l2 = f.alloc(0x1000);
        let l3 = f.alloc(0x1000);
        f.wr(l0 + 8, l1 | 3);
        f.wr(l1 + 8, l2 | 3);
        f.wr(l2 + 3 * 8, l3 | 3);
        f.wr(l3 + 3 * 8, page(0x8765_4000, NORMAL | SH_IS));
        // ASID in TTBR0[63:48] is not part of the address.
        f.set(
            SCTLR_ON,
            tcr(16, TG0_4K, 16, TG1_4K),
            l0 | (0x1234 << 48),
            0,
        );
        let t = f.tr(va, Access::Read, 1).unwrap();
        assert_eq!(t.paddr_page, 0x8765_4000);
        assert_eq!(t.perms, Perms::READ | Perms::WRITE | Perms::EXEC);
        assert_eq!(t.walker_attrs(), 0xff);
        let w = walk(&Regs::from_env(&f.env), f.phys(), va, false).unwrap();
        assert_eq!(w.pa, 0x8765_4abc);
        assert_eq!(w.level, 3);
        // Neighbouring entries are invalid: translation faults at each level.
        assert_eq!(f.fault(va + 0x1000, Access::Read, 1), fsc::translation(3));
        assert_eq!(
            f.fault(va + (1 << 21), Access::Read, 1),
            fsc::translation(2)
        );
        assert_eq!(
            f.fault(va + (1 << 30), Access::Read, 1),
            fsc::translation(1)
        );
        assert_eq!(
            f.fault(va + (1 << 39), Access::Read, 1),
            fsc::translation(0)
        );
        // A reserved level-3 descriptor (bits[1:0] = 01).
        f.wr(l3 + 4 * 8, block(0x8765_5000, NORMAL));
        assert_eq!(f.fault(va + 0x1000, Access::Read, 1), fsc::translation(3));
    }

    #[test]
    fn four_k_blocks() {
        let mut f = Fx::new();
        let root = f.root(12);
        // 1 GiB block at level 1, 2 MiB block at level 2.
        f.map(root, 12, 48, 0x8000_0000, 1, block(0x1_c000_0000, NORMAL));
        f.map(root, 12, 48, 0x40_0020_0000, 2, block(0x5_0000_0000, NC));
        f.set(SCTLR_ON, tcr(16, TG0_4K, 16, TG1_4K), root, 0);
        assert_eq!(f.pa(0x8000_0000, Access::Read, 1), 0x1_c000_0000);
        assert_eq!(f.pa(0xbfff_ffff, Access::Read, 1), 0x1_ffff_f000);
        assert_eq!(f.pa(0x8123_4567, Access::Read, 1), 0x1_c123_4000);
        assert_eq!(f.pa(0x40_0031_2345, Access::Write, 1), 0x5_0011_2000);
        assert_eq!(
            f.tr(0x40_0031_2345, Access::Read, 1)
                .unwrap()
                .walker_attrs(),
            0x44
        );
        // A block at level 0 is a translation fault there.
        f.wr(root + 2 * 8, block(0, NORMAL));
        assert_eq!(f.fault(2 << 39, Access::Read, 1), fsc::translation(0));
        // Low block descriptor bits inside the block's range are ignored.
        f.map(
            root,
            12,
            48,
            0xc000_0000,
            1,
            block(0x4000_0000 | 0x3fe0_0000, NORMAL),
        );
        assert_eq!(f.pa(0xc000_1000, Access::Read, 1), 0x4000_1000);
    }

    #[test]
    fn sixteen_k_granule() {
        let mut f = Fx::new();
        let root = f.root(14);
        // 48-bit VA with 16K: start level 0 (2 entries).
        let va = 0x8000_1234_8000 | 0x2abc;
        let t = f.map(root, 14, 48, va, 3, page(0x9000_0000 | 0x4000, NORMAL));
        assert_eq!(t.len(), 4);
        f.map(root, 14, 48, 0x4000_0000, 2, block(0xa200_0000, DEVICE));
        f.set(SCTLR_ON, tcr(16, TG0_16K, 16, TG1_4K), root, 0);
        // The 4K sub-page of the 16K page.
        assert_eq!(f.pa(va, Access::Read, 1), 0x9000_6000);
        assert_eq!(f.pa(va & !0x3fff, Access::Read, 1), 0x9000_4000);
        // 32 MiB block at level 2, Device.
        let t = f.tr(0x41ff_f123, Access::Read, 1).unwrap();
        assert_eq!(t.paddr_page, 0xa3ff_f000);
        assert_eq!(t.walker_attrs(), ATTR_DEVICE);
        assert_eq!(t.size_log2(), 25);
        assert_eq!(f.tr(va, Access::Read, 1).unwrap().size_log2(), 14);
        // Block at level 1 is not allowed with 16K.
        f.map(root, 14, 48, 0x10_0000_0000, 1, block(0, NORMAL));
        assert_eq!(
            f.fault(0x10_0000_0000, Access::Read, 1),
            fsc::translation(1)
        );
        // `va` uses level-0 entry 1, level-1 entry 0 and level-2 entry 9; entry 0 there
        // is empty.
        assert_eq!(f.fault(1 << 47, Access::Read, 1), fsc::translation(2));
    }

    #[test]
    fn sixty_four_k_granule() {
        let mut f = Fx::new();
        let root = f.root(16);
        // 48-bit VA with 64K: start level 1 (64 entries).
        let va = 0x7f00_1234_0000 | 0xd321;
        let t = f.map(root, 16, 48, va, 3, page(0x7_7777_0000, NORMAL));
        assert_eq!(t.len(), 3);
        f.map(root, 16, 48, 0x2000_0000, 2, block(0x3_e000_0000, NORMAL));
        f.set(SCTLR_ON, tcr(16, TG0_64K, 16, TG1_4K), root, 0);
        assert_eq!(f.pa(va, Access::Read, 1), 0x7_7777_d000);
        // 512 MiB block.
        assert_eq!(f.pa(0x3fff_ffff, Access::Read, 1), 0x3_ffff_f000);
        assert_eq!(f.pa(0x2345_6789, Access::Read, 1), 0x3_e345_6000);
        // Block at level 1 is not allowed with 64K (no 52-bit PAs).
        f.map(root, 16, 48, 0x400_0000_0000, 1, block(0, NORMAL));
        assert_eq!(
            f.fault(0x400_0000_0000, Access::Read, 1),
            fsc::translation(1)
        );
    }

    #[test]
    fn start_levels_follow_txsz_and_granule() {
        // (grain, tg0, t0sz, expected start level)
        let cases = [
            (12, TG0_4K, 16, 0),
            (12, TG0_4K, 25, 1),
            (12, TG0_4K, 24, 0),
            (12, TG0_4K, 33, 1),
            (12, TG0_4K, 34, 2),
            (12, TG0_4K, 39, 2),
            (14, TG0_16K, 16, 0),
            (14, TG0_16K, 17, 1),
            (14, TG0_16K, 27, 1),
            (14, TG0_16K, 28, 2),
            (14, TG0_16K, 38, 2),
            (14, TG0_16K, 39, 3),
            (16, TG0_64K, 16, 1),
            (16, TG0_64K, 21, 1),
            (16, TG0_64K, 22, 2),
            (16, TG0_64K, 34, 2),
            (16, TG0_64K, 35, 3),
            (16, TG0_64K, 39, 3),
        ];
        for (grain, tg0, t0sz, level) in cases {
            let mut f = Fx::new();
            let root = f.root(grain);
            f.set(SCTLR_ON, tcr(t0sz, tg0, 16, TG1_4K), root, 0);
            assert_eq!(start_level(grain, 64 - t0sz as u32), level);
            // An empty root faults at the start level.
            assert_eq!(
                f.fault(0x1000, Access::Read, 1),
                fsc::translation(level as u8),
                "grain {grain} t0sz {t0sz}"
            );
            // The highest VA of the range translates through a full walk.
            let top_va = (1u64 << (64 - t0sz)) - 1;
            f.map(
                root,
                grain,
                64 - t0sz as u32,
                top_va,
                3,
                page(0x1234 << grain, NORMAL),
            );
            let expect = (0x1234 << grain) | (top_va & bits(grain - 1, 12));
            assert_eq!(
                f.pa(top_va, Access::Read, 1),
                expect,
                "grain {grain} t0sz {t0sz}"
            );
            // One past it is outside TTBR0's range.
            assert_eq!(f.fault(top_va + 1, Access::Read, 1), fsc::translation(0));
        }
    }

    #[test]
    fn txsz_is_clamped() {
        let mut f = Fx::new();
        let root = f.root(12);
        f.map(root, 12, 48, 0xffff_ffff_f000, 3, page(0x5000, NORMAL));
        // T0SZ = 0 behaves as 16.
        f.set(SCTLR_ON, tcr(0, TG0_4K, 16, TG1_4K), root, 0);
        assert_eq!(f.pa(0xffff_ffff_f000, Access::Read, 1), 0x5000);
        assert_eq!(f.fault(1 << 48, Access::Read, 1), fsc::translation(0));
        // T0SZ = 63 behaves as 39 (25-bit VAs, start level 2).
        let root = f.root(12);
        f.map(root, 12, 25, 0x1ff_f000, 3, page(0x6000, NORMAL));
        f.set(SCTLR_ON, tcr(63, TG0_4K, 16, TG1_4K), root, 0);
        assert_eq!(f.pa(0x1ff_f000, Access::Read, 1), 0x6000);
        assert_eq!(f.fault(0x200_0000, Access::Read, 1), fsc::translation(0));
    }

    #[test]
    fn ttbr1_high_addresses() {
        for (grain, tg1) in [(12, TG1_4K), (14, TG1_16K), (16, TG1_64K)] {
            let mut f = Fx::new();
            let root0 = f.root(12);
            let root1 = f.root(grain);
            let va = 0xffff_8000_1234_5000u64;
            f.map(
                root1,
                grain,
                48,
                va,
                3,
                page(0x4_0000_0000 | (1 << grain), NORMAL),
            );
            f.map(root0, 12, 48, 0x1234_5000, 3, page(0x7000, NORMAL));
            f.set(
                SCTLR_ON,
                tcr(16, TG0_4K, 16, tg1),
                root0,
                root1 | (0xabcd << 48),
            );
            let expect = 0x4_0000_0000 | (1 << grain) | (va & bits(grain - 1, 12));
            assert_eq!(f.pa(va, Access::Read, 1), expect);
            assert_eq!(f.pa(0x1234_5000, Access::Read, 1), 0x7000);
            // Bits 63:48 must all be ones for TTBR1.
            assert_eq!(
                f.fault(0xfffe_8000_1234_5000, Access::Read, 1),
                fsc::translation(0)
            );
            assert_eq!(
                f.fault(0x7fff_8000_1234_5000, Access::Read, 1),
                fsc::translation(0)
            );
            assert_eq!(
                f.fault(0x0080_0000_0000_0000, Access::Read, 1),
                fsc::translation(0)
            );
        }
        // A 39-bit TTBR1 range (T1SZ = 25): start level 1.
        let mut f = Fx::new();
        let root1 = f.root(12);
        let va = 0xffff_ff80_0020_3000u64;
        f.map(root1, 12, 39, va, 3, page(0x8000, NORMAL));
        f.set(SCTLR_ON, tcr(16, TG0_4K, 25, TG1_4K), 0, root1);
        assert_eq!(f.pa(va, Access::Read, 1), 0x8000);
        assert_eq!(
            f.fault(0xffff_ff7f_ffff_f000, Access::Read, 1),
            fsc::translation(0)
        );
        assert_eq!(
            f.fault(0xffff_ffc0_0000_0000, Access::Read, 1),
            fsc::translation(1)
        );
    }

    #[test]
    fn epd_disables_a_ttbr() {
        let mut f = Fx::new();
        let root = f.root(12);
        let root1 = f.root(12);
        f.map(root, 12, 48, 0x1000, 3, page(0x1000, NORMAL));
        f.map(
            root1,
            12,
            48,
            0xffff_0000_0000_1000,
            3,
            page(0x2000, NORMAL),
        );
        let base = tcr(16, TG0_4K, 16, TG1_4K);
        f.set(SCTLR_ON, base, root, root1);
        assert_eq!(f.pa(0x1000, Access::Read, 1), 0x1000);
        assert_eq!(f.pa(0xffff_0000_0000_1000, Access::Read, 1), 0x2000);
        f.env.sysregs[slot::TCR] = base | TCR_EPD0;
        assert_eq!(f.fault(0x1000, Access::Read, 1), fsc::translation(0));
        assert_eq!(f.pa(0xffff_0000_0000_1000, Access::Read, 1), 0x2000);
        f.env.sysregs[slot::TCR] = base | TCR_EPD1;
        assert_eq!(f.pa(0x1000, Access::Read, 1), 0x1000);
        assert_eq!(
            f.fault(0xffff_0000_0000_1000, Access::Exec, 0),
            fsc::translation(0)
        );
    }

    #[test]
    fn top_byte_ignore() {
        let mut f = Fx::new();
        let root = f.root(12);
        let root1 = f.root(12);
        f.map(root, 12, 48, 0x1000, 3, page(0x1000, NORMAL | AP_EL0));
        f.map(
            root1,
            12,
            48,
            0xffff_0000_0000_1000,
            3,
            page(0x2000, NORMAL),
        );
        let base = tcr(16, TG0_4K, 16, TG1_4K);
        f.set(SCTLR_ON, base, root, root1);
        assert_eq!(
            f.fault(0x5a00_0000_0000_1000, Access::Read, 1),
            fsc::translation(0)
        );
        assert_eq!(
            f.fault(0x00ff_0000_0000_1000, Access::Read, 1),
            fsc::translation(0)
        );
        f.env.sysregs[slot::TCR] = base | TCR_TBI0;
        assert_eq!(f.pa(0x5a00_0000_0000_1000, Access::Read, 1), 0x1000);
        assert_eq!(f.pa(0xff00_0000_0000_1000, Access::Exec, 0), 0x1000);
        // Bit 55 still selects TTBR1, whose TBI1 is off.
        assert_eq!(
            f.fault(0x00ff_0000_0000_1000, Access::Read, 1),
            fsc::translation(0)
        );
        assert_eq!(f.pa(0xffff_0000_0000_1000, Access::Read, 1), 0x2000);
        f.env.sysregs[slot::TCR] = base | TCR_TBI1;
        assert_eq!(f.pa(0x00ff_0000_0000_1000, Access::Read, 1), 0x2000);
        assert_eq!(f.pa(0x12ff_0000_0000_1000, Access::Read, 1), 0x2000);
        assert_eq!(
            f.fault(0x12fe_0000_0000_1000, Access::Read, 1),
            fsc::translation(0)
        );
        assert_eq!(
            f.fault(0x5a00_0000_0000_1000, Access::Read, 1),
            fsc::translation(0)
        );
    }

    #[test]
    fn access_permissions() {
        let mut f = Fx::new();
        let root = f.root(12);
        let ap = [0, AP_EL0, AP_RO, AP_RO | AP_EL0];
        for (i, apb) in ap.iter().enumerate() {
            f.map(
                root,
                12,
                48,
                0x1_0000 + 0x1000 * i as u64,
                3,
                page(0x1000, NORMAL | apb),
            );
        }
        f.set(SCTLR_ON, tcr(16, TG0_4K, 16, TG1_4K), root, 0);
        let (r, w, x) = (Perms::READ, Perms::WRITE, Perms::EXEC);
        // AP = 00: EL1 RW, EL0 none (EL0 may still execute: execute-only memory).
        assert_eq!(f.perms(0x1_0000, 1), r | w | x);
        assert_eq!(f.perms(0x1_0000, 0), x);
        // AP = 01: RW at both; EL1 never executes EL0-writable memory.
        assert_eq!(f.perms(0x1_1000, 1), r | w);
        assert_eq!(f.perms(0x1_1000, 0), r | w | x);
        // AP = 10: EL1 RO, EL0 none.
        assert_eq!(f.perms(0x1_2000, 1), r | x);
        assert_eq!(f.perms(0x1_2000, 0), x);
        // AP = 11: RO at both.
        assert_eq!(f.perms(0x1_3000, 1), r | x);
        assert_eq!(f.perms(0x1_3000, 0), r | x);

        assert_eq!(f.fault(0x1_0000, Access::Read, 0), fsc::permission(3));
        assert_eq!(f.fault(0x1_0000, Access::Write, 0), fsc::permission(3));
        assert_eq!(f.fault(0x1_1000, Access::Exec, 1), fsc::permission(3));
        assert_eq!(f.fault(0x1_2000, Access::Write, 1), fsc::permission(3));
        assert_eq!(f.fault(0x1_3000, Access::Write, 0), fsc::permission(3));
        assert!(f.tr(0x1_1000, Access::Write, 0).is_ok());
        assert!(f.tr(0x1_0000, Access::Exec, 0).is_ok());
    }

    #[test]
    fn execute_never_and_wxn() {
        let mut f = Fx::new();
        let root = f.root(12);
        f.map(
            root,
            12,
            48,
            0x1000,
            3,
            page(0x1000, NORMAL | DESC_UXN | AP_EL0 | AP_RO),
        );
        f.map(
            root,
            12,
            48,
            0x2000,
            3,
            page(0x2000, NORMAL | DESC_PXN | AP_EL0 | AP_RO),
        );
        f.map(root, 12, 48, 0x3000, 3, page(0x3000, NORMAL));
        f.map(root, 12, 48, 0x4000, 3, page(0x4000, NORMAL | AP_RO));
        f.map(
            root,
            12,
            48,
            0x5000,
            3,
            page(0x5000, NORMAL | AP_EL0 | AP_RO),
        );
        let tcr = tcr(16, TG0_4K, 16, TG1_4K);
        f.set(SCTLR_ON, tcr, root, 0);
        let (r, w, x) = (Perms::READ, Perms::WRITE, Perms::EXEC);
        assert_eq!(f.perms(0x1000, 0), r);
        assert_eq!(f.perms(0x1000, 1), r | x);
        assert_eq!(f.perms(0x2000, 0), r | x);
        assert_eq!(f.perms(0x2000, 1), r);
        assert_eq!(f.fault(0x1000, Access::Exec, 0), fsc::permission(3));
        assert_eq!(f.fault(0x2000, Access::Exec, 1), fsc::permission(3));
        assert_eq!(f.perms(0x3000, 1), r | w | x);
        // WXN: writable at the regime => not executable there.
        f.set(SCTLR_ON | SCTLR_WXN, tcr, root, 0);
        assert_eq!(f.perms(0x3000, 1), r | w);
        assert_eq!(f.perms(0x3000, 0), x);
        assert_eq!(f.perms(0x4000, 1), r | x);
        assert_eq!(f.perms(0x5000, 0), r | x);
        assert_eq!(f.fault(0x3000, Access::Exec, 1), fsc::permission(3));
    }

    #[test]
    fn table_attributes() {
        let mut f = Fx::new();
        let root = f.root(12);
        // Four 1 GiB regions, each under its own level-1 table entry with one bit set.
        let attrs = [TABLE_AP1, TABLE_AP0, TABLE_UXN, TABLE_PXN];
        for (i, t) in attrs.iter().enumerate() {
            let va = (i as u64) << 30;
            let tables = f.map(root, 12, 48, va, 3, page(0x1000, NORMAL | AP_EL0));
            // tables[1] is the level-1 table; its entry for `va` points at level 2.
            let e = tables[1] + 8 * i as u64;
            let d = f.rd(e);
            f.wr(e, d | t);
        }
        f.set(SCTLR_ON, tcr(16, TG0_4K, 16, TG1_4K), root, 0);
        let (r, w, x) = (Perms::READ, Perms::WRITE, Perms::EXEC);
        // APTable[1]: read-only everywhere (and so executable at EL1 again).
        assert_eq!(f.perms(0, 1), r | x);
        assert_eq!(f.perms(0, 0), r | x);
        // APTable[0]: no EL0 access.
        assert_eq!(f.perms(1 << 30, 1), r | w | x);
        assert_eq!(f.perms(1 << 30, 0), x);
        assert_eq!(f.fault(1 << 30, Access::Read, 0), fsc::permission(3));
        // UXNTable.
        assert_eq!(f.perms(2 << 30, 0), r | w);
        assert_eq!(f.perms(2 << 30, 1), r | w);
        // PXNTable (EL1 cannot execute this EL0-writable page anyway).
        assert_eq!(f.perms(3 << 30, 0), r | w | x);
        assert_eq!(f.perms(3 << 30, 1), r | w);
        // PXNTable on a page EL0 cannot write.
        let root = f.root(12);
        let tables = f.map(root, 12, 48, 0x1000, 3, page(0x1000, NORMAL));
        let d = f.rd(tables[2]);
        f.wr(tables[2], d | TABLE_PXN);
        f.env.sysregs[slot::TTBR0] = root;
        assert_eq!(f.perms(0x1000, 1), r | w);
    }

    #[test]
    fn access_flag_faults() {
        let mut f = Fx::new();
        let root = f.root(12);
        f.map(root, 12, 48, 0x1000, 3, 0x1000 | 3 | NORMAL);
        f.map(root, 12, 48, 0x4000_0000, 2, 0x4000_0000 | 1 | NORMAL);
        f.map(root, 12, 48, 0x8000_0000, 1, 0x8000_0000 | 1 | NORMAL);
        f.set(SCTLR_ON, tcr(16, TG0_4K, 16, TG1_4K), root, 0);
        assert_eq!(f.fault(0x1000, Access::Read, 1), fsc::access_flag(3));
        assert_eq!(f.fault(0x4000_0000, Access::Exec, 0), fsc::access_flag(2));
        assert_eq!(f.fault(0x8000_0000, Access::Write, 1), fsc::access_flag(1));
        // The access flag fault comes before the permission fault.
        f.map(root, 12, 48, 0x2000, 3, 0x2000 | 3 | NORMAL | AP_RO);
        assert_eq!(f.fault(0x2000, Access::Write, 1), fsc::access_flag(3));
    }

    #[test]
    fn address_size_faults() {
        let mut f = Fx::new();
        let root = f.root(12);
        let tcr40 = tcr(16, TG0_4K, 16, TG1_4K);
        // Table base above the 40-bit PA space.
        f.set(SCTLR_ON, tcr40, root | (1 << 40), 0);
        assert_eq!(f.fault(0x1000, Access::Read, 1), fsc::address_size(0));
        // Output address above 40 bits, for a page and a block.
        f.map(root, 12, 48, 0x1000, 3, page(1 << 40, NORMAL));
        f.map(root, 12, 48, 0x4000_0000, 2, block(0x8000 << 28, NORMAL));
        f.set(SCTLR_ON, tcr40, root, 0);
        assert_eq!(f.fault(0x1000, Access::Read, 1), fsc::address_size(3));
        assert_eq!(f.fault(0x4000_0000, Access::Read, 1), fsc::address_size(2));
        // Next-level table address above 40 bits.
        let tables = f.map(root, 12, 48, 0x80_0000_0000, 3, page(0x1000, NORMAL));
        f.wr(tables[0] + 8, (1 << 41) | 3);
        assert_eq!(
            f.fault(0x80_0000_0000, Access::Read, 1),
            fsc::address_size(0)
        );
        // IPS = 32 bits: RAM (tables) at 1 GiB is fine, an output at 4 GiB is not.
        f.map(root, 12, 48, 0x2000, 3, page(0x1_0000_0000, NORMAL));
        f.map(root, 12, 48, 0x3000, 3, page(0xffff_f000, NORMAL));
        f.set(SCTLR_ON, tcr40 & !(7 << 32), root, 0);
        assert_eq!(f.fault(0x2000, Access::Read, 1), fsc::address_size(3));
        assert_eq!(f.pa(0x3000, Access::Read, 1), 0xffff_f000);
        // IPS larger than the implementation (48 bits) is limited to 40 bits.
        f.set(SCTLR_ON, (tcr40 & !(7 << 32)) | (5 << 32), root, 0);
        assert_eq!(f.pa(0x2000, Access::Read, 1), 0x1_0000_0000);
        assert_eq!(f.fault(0x1000, Access::Read, 1), fsc::address_size(3));
    }

    #[test]
    fn external_abort_on_walk() {
        let mut f = Fx::new();
        // Root table where there is no RAM.
        f.set(SCTLR_ON, tcr(16, TG0_4K, 16, TG1_4K), 0x1000_0000, 0);
        assert_eq!(
            f.fault(0x1000, Access::Read, 1),
            fsc::external_abort_on_walk(0)
        );
        // A level-2 table where there is no RAM.
        let root = f.root(12);
        let tables = f.map(root, 12, 48, 0x1000, 3, page(0x1000, NORMAL));
        f.wr(tables[1], 0x2000_0000 | 3);
        f.env.sysregs[slot::TTBR0] = root;
        assert_eq!(
            f.fault(0x1000, Access::Exec, 0),
            fsc::external_abort_on_walk(2)
        );
        let par = f.at(0x1000, false, false);
        assert_eq!(
            par,
            PAR_RES1 | ((fsc::external_abort_on_walk(2) as u64) << 1) | PAR_F
        );
        // No memory context at all: every walk read aborts.
        f.env.head.ctx = std::ptr::null();
        assert_eq!(
            f.fault(0x1000, Access::Read, 1),
            fsc::external_abort_on_walk(0)
        );
    }

    #[test]
    fn address_translation_instructions() {
        let mut f = Fx::new();
        let root = f.root(12);
        f.map(
            root,
            12,
            48,
            0x1000,
            3,
            page(0x12_3456_7000, NORMAL | SH_IS),
        );
        f.map(root, 12, 48, 0x2000, 3, page(0x0900_0000, DEVICE | AP_EL0));
        f.map(
            root,
            12,
            48,
            0x3000,
            3,
            page(0x4000_0000, NC | SH_IS | AP_RO | AP_EL0),
        );
        f.map(root, 12, 48, 0x4000, 3, page(0x5000, (3 << 2) | (2 << 8)));
        f.set(SCTLR_ON, tcr(16, TG0_4K, 16, TG1_4K), root, 0);
        let ok = PAR_RES1 | PAR_NS;
        assert_eq!(
            f.at(0x1abc, false, false),
            (0xff << 56) | 0x12_3456_7000 | ok | (3 << 7)
        );
        assert_eq!(
            f.at(0x1abc, true, false),
            (0xff << 56) | 0x12_3456_7000 | ok | (3 << 7)
        );
        // EL0 has no access to the AP = 00 page.
        let perm3 = PAR_RES1 | ((fsc::permission(3) as u64) << 1) | PAR_F;
        assert_eq!(f.at(0x1abc, false, true), perm3);
        assert_eq!(f.at(0x1abc, true, true), perm3);
        // Device memory reports Outer Shareable.
        assert_eq!(f.at(0x2000, true, true), 0x0900_0000 | ok | (2 << 7));
        // Normal Non-cacheable too; the page is read-only.
        assert_eq!(
            f.at(0x3000, false, true),
            (0x44 << 56) | 0x4000_0000 | ok | (2 << 7)
        );
        assert_eq!(f.at(0x3000, true, false), perm3);
        // Device-nGnRE (MAIR byte 0x04) with an outer-shareable descriptor.
        assert_eq!(
            f.at(0x4000, false, false),
            (0x04 << 56) | 0x5000 | ok | (2 << 7)
        );
        // Translation fault at level 3, and at level 0 for a VA out of range.
        let tr3 = PAR_RES1 | ((fsc::translation(3) as u64) << 1) | PAR_F;
        assert_eq!(f.at(0x5000, false, false), tr3);
        assert_eq!(
            f.at(1 << 50, false, false),
            PAR_RES1 | (0b0100 << 1) | PAR_F
        );
    }

    #[test]
    fn softmmu_fill_records_the_fault() {
        let mut f = Fx::new();
        let root = f.root(12);
        let data = f.alloc(0x1000);
        f.map(root, 12, 48, 0x1000, 3, page(data, NORMAL | AP_RO));
        f.set(SCTLR_ON, tcr(16, TG0_4K, 16, TG1_4K), root, 0);
        let env = &mut *f.env as *mut CpuEnv as *mut EnvHead;
        // SAFETY: `env` is the fixture's live environment and its ctx the fixture's.
        let ok = unsafe { softmmu::slow::tlb_fill(env, 0x1008, Access::Read, 1, 0x400) };
        assert!(ok);
        let full = f.env.head.tlb_full(1, 0x1008);
        assert_eq!(full.paddr_page, data);
        assert_eq!(full.attrs, 0xff);
        // SAFETY: as above.
        let ok = unsafe { softmmu::slow::tlb_fill(env, 0x1008, Access::Write, 1, 0x400) };
        assert!(!ok);
        assert_eq!(f.env.head.fault, softmmu::fault::WALKER_BASE);
        assert_eq!(f.env.head.fault_info, fsc::permission(3) as u64);
        assert_eq!(f.env.head.fault_addr, 0x1008);
    }

    #[test]
    fn not_global_is_reported() {
        let mut f = Fx::new();
        let root = f.root(12);
        f.map(root, 12, 48, 0x1000, 3, page(0x1000, NORMAL | DESC_NG));
        f.set(SCTLR_ON, tcr(16, TG0_4K, 16, TG1_4K), root, 0);
        let t = f.tr(0x1000, Access::Read, 1).unwrap();
        assert_eq!(t.walker_attrs(), 0xff);
        assert!(t.not_global());
        assert_eq!(t.size_log2(), 12);
        f.map(root, 12, 48, 0x4000_0000, 2, block(0x4000_0000, NORMAL));
        let t = f.tr(0x4000_1000, Access::Read, 1).unwrap();
        assert!(!t.not_global());
        assert_eq!(t.size_log2(), 21);
    }
}
