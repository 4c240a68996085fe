//! GICv3 (ARM IHI 0069) as QEMU's virt board presents it to an EL1 guest with
//! `gic-version=3`: one security state (GICD_CTLR.DS = 1), affinity routing always on
//! (ARE = 1), a distributor, one redistributor per CPU and the ICC_* system-register CPU
//! interface. 256 interrupt IDs: SGIs 0-15 and PPIs 16-31 per CPU (in the
//! redistributors), SPIs 32-255 routed by GICD_IROUTER.
//!
//! Not implemented: LPIs and the ITS (GICD_TYPER.LPIS and GICR_TYPER.PLPIS read 0, so
//! a guest does not look for them), the legacy (ARE = 0) mode, 1-of-N SPI delivery
//! (an SPI with IROUTER.IRM = 1 goes to CPU 0), extended SPI/PPI ranges.
//!
//! Priorities are stored with 8 bits (as QEMU) and the CPU interface implements 5
//! (ICC_CTLR_EL1.PRIbits = 4; PMR keeps bits 7:3; 32 preemption levels in AP{0,1}R0).
//! Group 0 interrupts are signalled as FIQ and group 1 as IRQ (no EL3).
//!
//! Threading follows the GICv2 model ([`crate::gic`]): one lock over the whole state;
//! every change recomputes the affected CPUs' IRQ/FIQ levels and tells the [`IrqSink`]
//! (which kicks the vCPU) under the lock, so levels reach the CPUs in decision order.

use crate::gic::IrqSink;
use arm_cpu::irq::{CpuInterface, IccReg};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

pub const NUM_IRQS: usize = 256;
pub const NUM_SPIS: usize = NUM_IRQS - 32;
const SPI_WORDS: usize = NUM_SPIS.div_ceil(64);
/// Redistributor frames that fit in QEMU's one redistributor region (0x080A_0000 up to
/// the UART's 0x0900_0000); QEMU adds a second region in high memory beyond this.
pub const MAX_CPUS: usize = 123;
pub const SPURIOUS: u32 = 1023;
/// One redistributor: RD_base (64 KiB) then SGI_base (64 KiB).
pub const REDIST_STRIDE: u64 = 0x2_0000;
/// The redistributor region in the device tree (QEMU's: 123 frames).
pub const REDIST_REGION_SIZE: u64 = MAX_CPUS as u64 * REDIST_STRIDE;
const SGI_BASE: u64 = 0x1_0000;
/// CPUs per cluster in MPIDR_EL1 (QEMU's virt with a GICv3: Aff0 = 0..15).
pub const CLUSTER: usize = 16;

/// Priority bits the CPU interface implements, and the mask of them.
const PRI_BITS: u32 = 5;
const PRI_MASK: u8 = (0xff00u16 >> PRI_BITS) as u8;
const MIN_BPR0: u8 = 7 - PRI_BITS as u8;
const MIN_BPR1: u8 = MIN_BPR0 + 1;

/// Distributor register offsets.
pub mod gicd {
    pub const CTLR: u64 = 0x0000;
    pub const TYPER: u64 = 0x0004;
    pub const IIDR: u64 = 0x0008;
    pub const IGROUPR: u64 = 0x0080;
    pub const ISENABLER: u64 = 0x0100;
    pub const ICENABLER: u64 = 0x0180;
    pub const ISPENDR: u64 = 0x0200;
    pub const ICPENDR: u64 = 0x0280;
    pub const ISACTIVER: u64 = 0x0300;
    pub const ICACTIVER: u64 = 0x0380;
    pub const IPRIORITYR: u64 = 0x0400;
    pub const ICFGR: u64 = 0x0c00;
    pub const IGRPMODR: u64 = 0x0d00;
    pub const IROUTER: u64 = 0x6000;
    pub const PIDR2: u64 = 0xffe8;
    pub const SIZE: u64 = 0x1_0000;
}

/// Redistributor register offsets (RD_base frame; SGI_base ones add 0x10000).
pub mod gicr {
    pub const CTLR: u64 = 0x0000;
    pub const IIDR: u64 = 0x0004;
    pub const TYPER: u64 = 0x0008;
    pub const WAKER: u64 = 0x0014;
    pub const PIDR2: u64 = 0xffe8;
    pub const IGROUPR0: u64 = 0x1_0080;
    pub const ISENABLER0: u64 = 0x1_0100;
    pub const ICENABLER0: u64 = 0x1_0180;
    pub const ISPENDR0: u64 = 0x1_0200;
    pub const ICPENDR0: u64 = 0x1_0280;
    pub const ISACTIVER0: u64 = 0x1_0300;
    pub const ICACTIVER0: u64 = 0x1_0380;
    pub const IPRIORITYR: u64 = 0x1_0400;
    pub const ICFGR0: u64 = 0x1_0c00;
    pub const ICFGR1: u64 = 0x1_0c04;
}

/// Identification values, as QEMU 7.2's GICv3 reports them (the `gicv3` guest prints
/// them and its expected output comes from QEMU).
const IIDR_VALUE: u64 = 0x43b;
const PIDR2_VALUE: u64 = 0x3b;
/// GICD_CTLR: ARE (bit 4) and DS (bit 6) read as one; EnableGrp0/1 are bits 0 and 1.
const GICD_CTLR_FIXED: u32 = 0x50;
/// GICD_TYPER: No1N (25), A3V (24), IDbits = 15 (23:19), ITLinesNumber = 7 (256 IDs).
/// QEMU also sets LPIS (17); without LPIs here it is 0.
const GICD_TYPER_VALUE: u64 = 0x0378_0007;
/// GICR_TYPER: CommonLPIAff = 1 (25:24) as QEMU; Last is bit 4, Processor_Number 23:8.
const GICR_TYPER_COMMON: u64 = 1 << 24;
const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
/// ICC_CTLR_EL1: A3V (15), IDbits = 1 (24 bits, 13:11), PRIbits = 4 (10:8).
const ICC_CTLR_FIXED: u64 = 0x8c00;
const ICC_CTLR_CBPR: u64 = 1 << 0;
const ICC_CTLR_EOIMODE: u64 = 1 << 1;
/// ICC_SRE_EL1: SRE, DFB and DIB read as one (system registers only).
const ICC_SRE_VALUE: u64 = 0x7;

/// MPIDR_EL1 affinity (Aff1.Aff0, bit 31 not included) of CPU `n`.
pub fn affinity_of(n: usize) -> u64 {
    (((n / CLUSTER) as u64 & 0xff) << 8) | (n % CLUSTER) as u64
}

/// The CPU with affinity Aff3.Aff2.Aff1.Aff0 (as packed in MPIDR_EL1: Aff3 in 39:32).
pub fn cpu_of_affinity(aff: u64, ncpus: usize) -> Option<usize> {
    let aff0 = (aff & 0xff) as usize;
    let aff1 = ((aff >> 8) & 0xff) as usize;
    if aff & 0xff_00ff_0000 != 0 || aff0 >= CLUSTER {
        return None;
    }
    let n = aff1 * CLUSTER + aff0;
    (n < ncpus).then_some(n)
}

/// SGIs and PPIs of one CPU (its redistributor).
#[derive(Clone, Debug)]
struct Banked {
    enabled: u32,
    pending: u32,
    active: u32,
    level: u32,
    edge: u32,
    group1: u32,
    priority: [u8; 32],
}

impl Default for Banked {
    fn default() -> Banked {
        // SGIs are edge-triggered (GICR_ICFGR0 reads 0xaaaaaaaa); PPIs start level.
        Banked {
            enabled: 0,
            pending: 0,
            active: 0,
            level: 0,
            edge: 0xffff,
            group1: 0,
            priority: [0; 32],
        }
    }
}

/// Per-interrupt bits of one kind, for the set/clear register pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Enabled,
    Pending,
    Active,
    Group1,
}

#[derive(Clone, Debug)]
struct Spis {
    enabled: [u64; SPI_WORDS],
    pending: [u64; SPI_WORDS],
    active: [u64; SPI_WORDS],
    level: [u64; SPI_WORDS],
    edge: [u64; SPI_WORDS],
    group1: [u64; SPI_WORDS],
    priority: [u8; NUM_SPIS],
    router: [u64; NUM_SPIS],
}

#[derive(Clone, Debug)]
struct CpuIf {
    pmr: u8,
    bpr0: u8,
    bpr1: u8,
    ctlr: u64,
    igrpen0: bool,
    igrpen1: bool,
    /// Active priorities (AP0R0 / AP1R0): bit n = group priority n << 3 is active.
    ap0: u32,
    ap1: u32,
    waker: u32,
    /// What we last told the sink.
    irq: bool,
    fiq: bool,
}

impl Default for CpuIf {
    fn default() -> CpuIf {
        CpuIf {
            pmr: 0,
            bpr0: MIN_BPR0,
            bpr1: MIN_BPR1,
            ctlr: 0,
            igrpen0: false,
            igrpen1: false,
            ap0: 0,
            ap1: 0,
            waker: WAKER_PROCESSOR_SLEEP | WAKER_CHILDREN_ASLEEP,
            irq: false,
            fiq: false,
        }
    }
}

impl CpuIf {
    /// The running priority: the highest active group priority, or idle (0xff).
    fn running_priority(&self) -> u8 {
        let ap = self.ap0 | self.ap1;
        if ap == 0 {
            0xff
        } else {
            (ap.trailing_zeros() << (8 - PRI_BITS)) as u8
        }
    }

    /// The mask selecting the group-priority bits of a group `g1` priority.
    fn group_mask(&self, g1: bool) -> u8 {
        let bits = if g1 && self.ctlr & ICC_CTLR_CBPR == 0 {
            self.bpr1
        } else {
            self.bpr0 + 1
        };
        (0xffu16 << bits.min(8)) as u8
    }
}

struct State {
    /// EnableGrp0 (bit 0), EnableGrp1 (bit 1).
    ctlr: u32,
    banked: Vec<Banked>,
    spis: Spis,
    /// Per CPU: the SPIs routed to it.
    spi_targets: Vec<[u64; SPI_WORDS]>,
    cpus: Vec<CpuIf>,
}

/// A pending interrupt a CPU could take: ID, priority (implemented bits), group 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cand {
    id: u32,
    prio: u8,
    g1: bool,
}

impl State {
    fn ncpus(&self) -> usize {
        self.cpus.len()
    }

    fn bit(&self, cpu: usize, id: usize, f: Field) -> bool {
        if id < 32 {
            let b = &self.banked[cpu];
            let w = match f {
                Field::Enabled => b.enabled,
                Field::Pending => b.pending | (b.level & !b.edge),
                Field::Active => b.active,
                Field::Group1 => b.group1,
            };
            w >> id & 1 != 0
        } else if id < NUM_IRQS {
            let s = &self.spis;
            let n = id - 32;
            let (w, k) = (n / 64, n % 64);
            let v = match f {
                Field::Enabled => s.enabled[w],
                Field::Pending => s.pending[w] | (s.level[w] & !s.edge[w]),
                Field::Active => s.active[w],
                Field::Group1 => s.group1[w],
            };
            v >> k & 1 != 0
        } else {
            false
        }
    }

    /// Sets or clears a bit. Clearing Pending of a level interrupt whose line is high
    /// leaves it pending (the line still asserts it).
    fn set_bit(&mut self, cpu: usize, id: usize, f: Field, v: bool) {
        if id < 32 {
            let b = &mut self.banked[cpu];
            let w = match f {
                Field::Enabled => &mut b.enabled,
                Field::Pending => &mut b.pending,
                Field::Active => &mut b.active,
                Field::Group1 => &mut b.group1,
            };
            *w = (*w & !(1 << id)) | ((v as u32) << id);
        } else if id < NUM_IRQS {
            let s = &mut self.spis;
            let n = id - 32;
            let w = match f {
                Field::Enabled => &mut s.enabled,
                Field::Pending => &mut s.pending,
                Field::Active => &mut s.active,
                Field::Group1 => &mut s.group1,
            };
            let (i, k) = (n / 64, n % 64);
            w[i] = (w[i] & !(1 << k)) | ((v as u64) << k);
        }
    }

    fn priority(&self, cpu: usize, id: usize) -> u8 {
        if id < 32 {
            self.banked[cpu].priority[id]
        } else {
            self.spis.priority.get(id - 32).copied().unwrap_or(0)
        }
    }

    /// Recomputes which CPU SPI `n` goes to from its IROUTER value.
    fn route_spi(&mut self, n: usize) {
        let r = self.spis.router[n];
        let target = if r & (1 << 31) != 0 {
            Some(0)
        } else {
            // IROUTER packs the affinity as MPIDR_EL1 does.
            cpu_of_affinity(r & 0xff_00ff_ffff, self.ncpus())
        };
        let (w, k) = (n / 64, n % 64);
        for (c, t) in self.spi_targets.iter_mut().enumerate() {
            t[w] = (t[w] & !(1 << k)) | (((target == Some(c)) as u64) << k);
        }
    }

    /// The highest-priority interrupt (lowest implemented priority value, then lowest
    /// ID) that is enabled, pending, not active, reaches `cpu` and whose group is
    /// enabled in the distributor and the CPU interface.
    fn hppi(&self, cpu: usize) -> Option<Cand> {
        let c = &self.cpus[cpu];
        let g0 = self.ctlr & 1 != 0 && c.igrpen0;
        let g1 = self.ctlr & 2 != 0 && c.igrpen1;
        if !g0 && !g1 {
            return None;
        }
        let mut best: Option<Cand> = None;
        let mut consider = |id: u32, p: u8, is_g1: bool| {
            let p = p & PRI_MASK;
            if best.is_none_or(|b| p < b.prio) {
                best = Some(Cand {
                    id,
                    prio: p,
                    g1: is_g1,
                });
            }
        };
        let groups32 = |grp: u32| (if g0 { !grp } else { 0 }) | (if g1 { grp } else { 0 });
        let b = &self.banked[cpu];
        let mut cand =
            b.enabled & (b.pending | (b.level & !b.edge)) & !b.active & groups32(b.group1);
        while cand != 0 {
            let i = cand.trailing_zeros();
            cand &= cand - 1;
            consider(i, b.priority[i as usize], b.group1 >> i & 1 != 0);
        }
        let groups64 = |grp: u64| (if g0 { !grp } else { 0 }) | (if g1 { grp } else { 0 });
        let s = &self.spis;
        for (w, &targets) in self.spi_targets[cpu].iter().enumerate() {
            let mut cand = s.enabled[w]
                & (s.pending[w] | (s.level[w] & !s.edge[w]))
                & !s.active[w]
                & targets
                & groups64(s.group1[w]);
            while cand != 0 {
                let k = cand.trailing_zeros() as usize;
                cand &= cand - 1;
                let n = w * 64 + k;
                if n < NUM_SPIS {
                    consider(32 + n as u32, s.priority[n], s.group1[w] >> k & 1 != 0);
                }
            }
        }
        best
    }

    /// The interrupt `cpu` is being signalled: the highest-priority pending one, if it
    /// is above the priority mask and its group priority preempts the running priority.
    fn signalled(&self, cpu: usize) -> Option<Cand> {
        let c = &self.cpus[cpu];
        let h = self.hppi(cpu)?;
        let gp = h.prio & c.group_mask(h.g1);
        (h.prio < c.pmr && gp < c.running_priority()).then_some(h)
    }

    /// ICC_IAR{0,1}_EL1: acknowledges the signalled interrupt if it is of group `g1`.
    fn acknowledge(&mut self, cpu: usize, g1: bool) -> u32 {
        let Some(h) = self.signalled(cpu).filter(|h| h.g1 == g1) else {
            return SPURIOUS;
        };
        let id = h.id as usize;
        // Edge and software pending state is consumed; a level line still high keeps
        // the interrupt pending (active and pending).
        self.set_bit(cpu, id, Field::Pending, false);
        self.set_bit(cpu, id, Field::Active, true);
        let c = &mut self.cpus[cpu];
        let bit = 1u32 << ((h.prio & c.group_mask(g1)) >> (8 - PRI_BITS));
        if g1 {
            c.ap1 |= bit;
        } else {
            c.ap0 |= bit;
        }
        h.id
    }

    /// ICC_EOIR{0,1}_EL1: drops the highest active priority; with EOImode = 0 also
    /// deactivates `id`.
    fn end_of_interrupt(&mut self, cpu: usize, id: u32) {
        let c = &mut self.cpus[cpu];
        let ap = c.ap0 | c.ap1;
        if ap == 0 {
            return;
        }
        let lowest = ap & ap.wrapping_neg();
        c.ap0 &= !lowest;
        c.ap1 &= !lowest;
        if c.ctlr & ICC_CTLR_EOIMODE == 0 && id < 1020 {
            self.set_bit(cpu, id as usize, Field::Active, false);
        }
    }

    /// ICC_SGI{0,1}R_EL1 from `from`: SGI `value[27:24]` to the CPUs named by the
    /// target list (bits 15:0, offset by RS * 16) in cluster Aff3.Aff2.Aff1, or to
    /// every other CPU with IRM (bit 40). Only CPUs that have that SGI in group `g1`
    /// receive it.
    fn send_sgi(&mut self, from: usize, value: u64, g1: bool) {
        let id = ((value >> 24) & 0xf) as usize;
        let targets: Vec<usize> = if value & (1 << 40) != 0 {
            (0..self.ncpus()).filter(|&c| c != from).collect()
        } else {
            let list = value & 0xffff;
            let rs = (value >> 44) & 0xf;
            let aff = ((value >> 16) & 0xff) << 8
                | ((value >> 32) & 0xff) << 16
                | ((value >> 48) & 0xff) << 32;
            (0..16u64)
                .filter(|b| list >> b & 1 != 0)
                .filter_map(|b| cpu_of_affinity(aff | (rs * 16 + b), self.ncpus()))
                .collect()
        };
        for t in targets {
            if (self.banked[t].group1 >> id & 1 != 0) == g1 {
                self.banked[t].pending |= 1 << id;
            }
        }
    }
}

pub struct GicV3 {
    ncpus: usize,
    state: Mutex<State>,
    sink: OnceLock<Arc<dyn IrqSink>>,
}

impl GicV3 {
    pub fn new(ncpus: usize) -> GicV3 {
        let ncpus = ncpus.clamp(1, MAX_CPUS);
        let state = State {
            ctlr: 0,
            banked: vec![Banked::default(); ncpus],
            spis: Spis {
                enabled: [0; SPI_WORDS],
                pending: [0; SPI_WORDS],
                active: [0; SPI_WORDS],
                level: [0; SPI_WORDS],
                edge: [0; SPI_WORDS],
                group1: [0; SPI_WORDS],
                priority: [0; NUM_SPIS],
                router: [0; NUM_SPIS],
            },
            spi_targets: vec![[0; SPI_WORDS]; ncpus],
            cpus: vec![CpuIf::default(); ncpus],
        };
        let mut state = state;
        // IROUTER resets to 0: every SPI goes to CPU 0 (affinity 0.0.0.0).
        for n in 0..NUM_SPIS {
            state.route_spi(n);
        }
        GicV3 {
            ncpus,
            state: Mutex::new(state),
            sink: OnceLock::new(),
        }
    }

    pub fn ncpus(&self) -> usize {
        self.ncpus
    }

    /// Connects the CPUs' IRQ/FIQ inputs (once, when they exist).
    pub fn connect(&self, sink: Arc<dyn IrqSink>) {
        let _ = self.sink.set(sink);
        let mut s = self.lock();
        self.update_all(&mut s);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update_cpu(&self, s: &mut State, cpu: usize) {
        let sig = s.signalled(cpu);
        let irq = sig.is_some_and(|h| h.g1);
        let fiq = sig.is_some_and(|h| !h.g1);
        let c = &mut s.cpus[cpu];
        let sink = self.sink.get();
        if irq != c.irq {
            c.irq = irq;
            if let Some(k) = sink {
                k.set_irq(cpu, irq);
            }
        }
        if fiq != c.fiq {
            c.fiq = fiq;
            if let Some(k) = sink {
                k.set_fiq(cpu, fiq);
            }
        }
    }

    fn update_all(&self, s: &mut State) {
        for cpu in 0..self.ncpus {
            self.update_cpu(s, cpu);
        }
    }

    /// Drives SPI `n` (INTID 32 + n): a rising edge latches an edge-triggered one.
    pub fn set_spi(&self, n: usize, level: bool) {
        if n >= NUM_SPIS {
            return;
        }
        let mut s = self.lock();
        let (w, k) = (n / 64, n % 64);
        let was = s.spis.level[w] >> k & 1 != 0;
        if was == level {
            return;
        }
        if level && s.spis.edge[w] >> k & 1 != 0 {
            s.spis.pending[w] |= 1 << k;
        }
        s.spis.level[w] = (s.spis.level[w] & !(1 << k)) | ((level as u64) << k);
        self.update_all(&mut s);
    }

    /// Drives PPI `id` (16..=31) of `cpu`.
    pub fn set_ppi(&self, cpu: usize, id: usize, level: bool) {
        if cpu >= self.ncpus || !(16..32).contains(&id) {
            return;
        }
        let mut s = self.lock();
        let b = &mut s.banked[cpu];
        if (b.level >> id & 1 != 0) == level {
            return;
        }
        if level && b.edge >> id & 1 != 0 {
            b.pending |= 1 << id;
        }
        b.level = (b.level & !(1 << id)) | ((level as u32) << id);
        self.update_cpu(&mut s, cpu);
    }

    /// Whether `cpu`'s IRQ input is asserted now.
    pub fn irq_line(&self, cpu: usize) -> bool {
        cpu < self.ncpus && self.lock().cpus[cpu].irq
    }

    /// The set/clear bit-array register an offset (relative to the array block that
    /// starts at IGROUPR) falls in: field, clear half, and the array's base offset.
    fn bit_array(offset: u64) -> Option<(Field, bool, u64)> {
        let base = offset & !0x7f;
        let (f, clear) = match base {
            gicd::IGROUPR => (Field::Group1, false),
            gicd::ISENABLER => (Field::Enabled, false),
            gicd::ICENABLER => (Field::Enabled, true),
            gicd::ISPENDR => (Field::Pending, false),
            gicd::ICPENDR => (Field::Pending, true),
            gicd::ISACTIVER => (Field::Active, false),
            gicd::ICACTIVER => (Field::Active, true),
            _ => return None,
        };
        Some((f, clear, base))
    }

    /// IDs covered by an access of `size` bytes at `off` into an array of
    /// `bits_per_irq`-bit fields, with each one's bit position in the value.
    fn ids(off: u64, size: u32, bits_per_irq: u32) -> impl Iterator<Item = (usize, u32)> {
        let first = (off * 8 / bits_per_irq as u64) as usize;
        let n = (size.min(8) * 8 / bits_per_irq) as usize;
        (0..n)
            .map(move |k| (first + k, k as u32 * bits_per_irq))
            .filter(|&(id, _)| id < NUM_IRQS)
    }

    /// Reads a bit/field array for `cpu`'s banked IDs (`banked`) or the SPIs.
    fn read_fields(s: &State, cpu: usize, offset: u64, size: u32, banked: bool) -> u64 {
        let in_range = |id: usize| (id < 32) == banked;
        if let Some((f, _, base)) = Self::bit_array(offset) {
            return Self::ids(offset - base, size, 1)
                .filter(|&(id, _)| in_range(id))
                .fold(0, |acc, (id, sh)| acc | (s.bit(cpu, id, f) as u64) << sh);
        }
        match offset {
            o if (gicd::IPRIORITYR..gicd::IPRIORITYR + 0x400).contains(&o) => {
                Self::ids(o - gicd::IPRIORITYR, size, 8)
                    .filter(|&(id, _)| in_range(id))
                    .fold(0, |acc, (id, sh)| acc | (s.priority(cpu, id) as u64) << sh)
            }
            o if (gicd::ICFGR..gicd::ICFGR + 0x100).contains(&o) => {
                Self::ids(o - gicd::ICFGR, size, 2)
                    .filter(|&(id, _)| in_range(id))
                    .fold(0, |acc, (id, sh)| {
                        let edge = if id < 32 {
                            s.banked[cpu].edge >> id & 1 != 0
                        } else {
                            let n = id - 32;
                            s.spis.edge[n / 64] >> (n % 64) & 1 != 0
                        };
                        acc | (edge as u64) << (sh + 1)
                    })
            }
            _ => 0,
        }
    }

    fn write_fields(s: &mut State, cpu: usize, offset: u64, size: u32, value: u64, banked: bool) {
        let in_range = |id: usize| (id < 32) == banked;
        if let Some((f, clear, base)) = Self::bit_array(offset) {
            for (id, sh) in Self::ids(offset - base, size, 1).filter(|&(id, _)| in_range(id)) {
                let one = value >> sh & 1 != 0;
                if f == Field::Group1 {
                    // IGROUPR is a plain register; the others set or clear on a one.
                    s.set_bit(cpu, id, f, one);
                } else if one {
                    s.set_bit(cpu, id, f, !clear);
                }
            }
            return;
        }
        match offset {
            o if (gicd::IPRIORITYR..gicd::IPRIORITYR + 0x400).contains(&o) => {
                for (id, sh) in Self::ids(o - gicd::IPRIORITYR, size, 8) {
                    if !in_range(id) {
                        continue;
                    }
                    let p = (value >> sh) as u8;
                    if id < 32 {
                        s.banked[cpu].priority[id] = p;
                    } else {
                        s.spis.priority[id - 32] = p;
                    }
                }
            }
            o if (gicd::ICFGR..gicd::ICFGR + 0x100).contains(&o) => {
                for (id, sh) in Self::ids(o - gicd::ICFGR, size, 2) {
                    // SGIs are always edge-triggered (GICR_ICFGR0 is read-only).
                    if !in_range(id) || id < 16 {
                        continue;
                    }
                    let edge = value >> (sh + 1) & 1 != 0;
                    if id < 32 {
                        let b = &mut s.banked[cpu];
                        b.edge = (b.edge & !(1 << id)) | ((edge as u32) << id);
                    } else {
                        let n = id - 32;
                        let w = &mut s.spis.edge[n / 64];
                        *w = (*w & !(1 << (n % 64))) | ((edge as u64) << (n % 64));
                    }
                }
            }
            _ => {}
        }
    }

    pub fn dist_read(&self, offset: u64, size: u32) -> u64 {
        let s = self.lock();
        match offset {
            gicd::CTLR => (GICD_CTLR_FIXED | (s.ctlr & 3)) as u64,
            gicd::TYPER => GICD_TYPER_VALUE,
            gicd::IIDR => IIDR_VALUE,
            gicd::PIDR2 => PIDR2_VALUE,
            o if (gicd::IROUTER + 32 * 8..gicd::IROUTER + NUM_IRQS as u64 * 8).contains(&o) => {
                let n = ((o - gicd::IROUTER) / 8) as usize - 32;
                let v = s.spis.router[n];
                if o & 4 != 0 {
                    v >> 32
                } else if size == 8 {
                    v
                } else {
                    v & 0xffff_ffff
                }
            }
            o if o < gicd::IGRPMODR => Self::read_fields(&s, 0, o, size, false),
            _ => 0,
        }
    }

    pub fn dist_write(&self, offset: u64, size: u32, value: u64) {
        let mut s = self.lock();
        match offset {
            gicd::CTLR => s.ctlr = (value as u32) & 3,
            o if (gicd::IROUTER + 32 * 8..gicd::IROUTER + NUM_IRQS as u64 * 8).contains(&o) => {
                let n = ((o - gicd::IROUTER) / 8) as usize - 32;
                // Aff3 (39:32), IRM (31), Aff2..Aff0 (23:0); the rest is RES0.
                const MASK: u64 = 0xff_80ff_ffff;
                let r = &mut s.spis.router[n];
                *r = if o & 4 != 0 {
                    (*r & 0xffff_ffff) | ((value & 0xffff_ffff) << 32)
                } else if size == 8 {
                    value
                } else {
                    (*r & !0xffff_ffff) | (value & 0xffff_ffff)
                } & MASK;
                s.route_spi(n);
            }
            o if o < gicd::IGRPMODR => Self::write_fields(&mut s, 0, o, size, value, false),
            _ => return,
        }
        self.update_all(&mut s);
    }

    /// A redistributor-region access: `offset` from the region's base picks the CPU.
    pub fn redist_read(&self, offset: u64, size: u32) -> u64 {
        let cpu = (offset / REDIST_STRIDE) as usize;
        let off = offset % REDIST_STRIDE;
        if cpu >= self.ncpus {
            return 0;
        }
        let s = self.lock();
        match off {
            gicr::CTLR => 0,
            gicr::IIDR => IIDR_VALUE,
            gicr::TYPER | 0xc => {
                let last = (cpu + 1 == self.ncpus) as u64;
                let v = affinity_of(cpu) << 32
                    | GICR_TYPER_COMMON
                    | (cpu as u64 & 0xffff) << 8
                    | last << 4;
                if off == 0xc {
                    v >> 32
                } else if size == 8 {
                    v
                } else {
                    v & 0xffff_ffff
                }
            }
            gicr::WAKER => s.cpus[cpu].waker as u64,
            gicr::PIDR2 => PIDR2_VALUE,
            o if (gicr::IGROUPR0..SGI_BASE + gicd::IGRPMODR).contains(&o) => {
                Self::read_fields(&s, cpu, o - SGI_BASE, size, true)
            }
            _ => 0,
        }
    }

    pub fn redist_write(&self, offset: u64, size: u32, value: u64) {
        let cpu = (offset / REDIST_STRIDE) as usize;
        let off = offset % REDIST_STRIDE;
        if cpu >= self.ncpus {
            return;
        }
        let mut s = self.lock();
        match off {
            gicr::WAKER => {
                // ChildrenAsleep follows ProcessorSleep at once (nothing to quiesce).
                let sleep = value as u32 & WAKER_PROCESSOR_SLEEP != 0;
                s.cpus[cpu].waker = if sleep {
                    WAKER_PROCESSOR_SLEEP | WAKER_CHILDREN_ASLEEP
                } else {
                    0
                };
            }
            o if (gicr::IGROUPR0..SGI_BASE + gicd::IGRPMODR).contains(&o) => {
                Self::write_fields(&mut s, cpu, o - SGI_BASE, size, value, true)
            }
            _ => return,
        }
        self.update_cpu(&mut s, cpu);
    }

    /// MRS of ICC register `reg` on `cpu`.
    pub fn icc_read(&self, cpu: usize, reg: IccReg) -> u64 {
        if cpu >= self.ncpus {
            return 0;
        }
        let mut s = self.lock();
        let c = &s.cpus[cpu];
        match reg {
            IccReg::Pmr => c.pmr as u64,
            IccReg::Bpr0 => c.bpr0 as u64,
            IccReg::Bpr1 => {
                if c.ctlr & ICC_CTLR_CBPR != 0 {
                    (c.bpr0 + 1).min(7) as u64
                } else {
                    c.bpr1 as u64
                }
            }
            IccReg::Ctlr => ICC_CTLR_FIXED | c.ctlr,
            IccReg::Sre => ICC_SRE_VALUE,
            IccReg::Igrpen0 => c.igrpen0 as u64,
            IccReg::Igrpen1 => c.igrpen1 as u64,
            IccReg::Ap0r(0) => c.ap0 as u64,
            IccReg::Ap1r(0) => c.ap1 as u64,
            IccReg::Ap0r(_) | IccReg::Ap1r(_) => 0,
            IccReg::Rpr => c.running_priority() as u64,
            IccReg::Hppir0 | IccReg::Hppir1 => {
                let g1 = reg == IccReg::Hppir1;
                match s.hppi(cpu) {
                    Some(h) if h.g1 == g1 => h.id as u64,
                    _ => SPURIOUS as u64,
                }
            }
            IccReg::Iar0 | IccReg::Iar1 => {
                let id = s.acknowledge(cpu, reg == IccReg::Iar1);
                self.update_cpu(&mut s, cpu);
                id as u64
            }
            // Write-only: the translator makes reads UNDEFINED.
            IccReg::Eoir0
            | IccReg::Eoir1
            | IccReg::Dir
            | IccReg::Sgi0r
            | IccReg::Sgi1r
            | IccReg::Asgi1r => 0,
        }
    }

    /// MSR of ICC register `reg` on `cpu`.
    pub fn icc_write(&self, cpu: usize, reg: IccReg, value: u64) {
        if cpu >= self.ncpus {
            return;
        }
        let mut s = self.lock();
        let c = &mut s.cpus[cpu];
        match reg {
            IccReg::Pmr => c.pmr = value as u8 & PRI_MASK,
            IccReg::Bpr0 => c.bpr0 = (value as u8 & 7).max(MIN_BPR0),
            IccReg::Bpr1 => {
                if c.ctlr & ICC_CTLR_CBPR == 0 {
                    c.bpr1 = (value as u8 & 7).max(MIN_BPR1);
                }
            }
            IccReg::Ctlr => c.ctlr = value & (ICC_CTLR_CBPR | ICC_CTLR_EOIMODE),
            IccReg::Sre => {}
            IccReg::Igrpen0 => c.igrpen0 = value & 1 != 0,
            IccReg::Igrpen1 => c.igrpen1 = value & 1 != 0,
            IccReg::Ap0r(0) => c.ap0 = value as u32,
            IccReg::Ap1r(0) => c.ap1 = value as u32,
            IccReg::Ap0r(_) | IccReg::Ap1r(_) => {}
            IccReg::Eoir0 | IccReg::Eoir1 => {
                s.end_of_interrupt(cpu, (value & 0xff_ffff) as u32);
            }
            IccReg::Dir => {
                let id = (value & 0xff_ffff) as usize;
                if id < NUM_IRQS {
                    s.set_bit(cpu, id, Field::Active, false);
                }
            }
            IccReg::Sgi1r | IccReg::Asgi1r => {
                s.send_sgi(cpu, value, true);
                self.update_all(&mut s);
                return;
            }
            IccReg::Sgi0r => {
                s.send_sgi(cpu, value, false);
                self.update_all(&mut s);
                return;
            }
            // Read-only: the translator makes writes UNDEFINED.
            IccReg::Iar0 | IccReg::Iar1 | IccReg::Hppir0 | IccReg::Hppir1 | IccReg::Rpr => return,
        }
        // DIR of an SPI can make it visible to another CPU.
        if reg == IccReg::Dir {
            self.update_all(&mut s);
        } else {
            self.update_cpu(&mut s, cpu);
        }
    }
}

/// The distributor as an MMIO window.
pub struct GicV3Dist(pub Arc<GicV3>);

impl softmmu::MmioDevice for GicV3Dist {
    fn read(&self, offset: u64, size: u32) -> u64 {
        self.0.dist_read(offset, size)
    }
    fn write(&self, offset: u64, size: u32, value: u64) {
        self.0.dist_write(offset, size, value)
    }
}

/// The redistributors (one frame pair per CPU) as one MMIO window.
pub struct GicV3Redist(pub Arc<GicV3>);

impl softmmu::MmioDevice for GicV3Redist {
    fn read(&self, offset: u64, size: u32) -> u64 {
        self.0.redist_read(offset, size)
    }
    fn write(&self, offset: u64, size: u32, value: u64) {
        self.0.redist_write(offset, size, value)
    }
}

/// One CPU's ICC_* registers, attached to the CPU (see [`arm_cpu::irq::IrqLines`]).
pub struct IccPort {
    pub gic: Arc<GicV3>,
    pub cpu: usize,
}

impl CpuInterface for IccPort {
    fn read(&self, reg: IccReg) -> u64 {
        self.gic.icc_read(self.cpu, reg)
    }
    fn write(&self, reg: IccReg, value: u64) {
        self.gic.icc_write(self.cpu, reg, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Lines(Mutex<Vec<(bool, bool)>>);
    impl IrqSink for Lines {
        fn set_irq(&self, cpu: usize, level: bool) {
            self.0.lock().unwrap()[cpu].0 = level;
        }
        fn set_fiq(&self, cpu: usize, level: bool) {
            self.0.lock().unwrap()[cpu].1 = level;
        }
    }
    impl Lines {
        fn irq(&self, cpu: usize) -> bool {
            self.0.lock().unwrap()[cpu].0
        }
        fn fiq(&self, cpu: usize) -> bool {
            self.0.lock().unwrap()[cpu].1
        }
    }

    fn rd(cpu: usize, off: u64) -> u64 {
        cpu as u64 * REDIST_STRIDE + off
    }

    /// `n` CPUs set up as Linux does: distributor on (both groups), every SGI/PPI in
    /// group 1, enabled, priority 0xa0; PMR 0xf0; group 1 enabled in each interface.
    fn gic(n: usize) -> (GicV3, Arc<Lines>) {
        let g = GicV3::new(n);
        let l = Arc::new(Lines(Mutex::new(vec![(false, false); n])));
        g.connect(l.clone());
        g.dist_write(gicd::CTLR, 4, 0x13);
        for c in 0..n {
            g.redist_write(rd(c, gicr::WAKER), 4, 0);
            g.redist_write(rd(c, gicr::IGROUPR0), 4, 0xffff_ffff);
            for w in 0..8 {
                g.redist_write(rd(c, gicr::IPRIORITYR + 4 * w), 4, 0xa0a0_a0a0);
            }
            g.redist_write(rd(c, gicr::ISENABLER0), 4, 0xffff);
            g.icc_write(c, IccReg::Pmr, 0xf0);
            g.icc_write(c, IccReg::Igrpen1, 1);
        }
        (g, l)
    }

    fn pending_sgis(g: &GicV3, cpu: usize) -> u64 {
        g.redist_read(rd(cpu, gicr::ISPENDR0), 4) & 0xffff
    }

    #[test]
    fn affinity_layout_is_qemus() {
        assert_eq!(affinity_of(0), 0);
        assert_eq!(affinity_of(15), 15);
        assert_eq!(affinity_of(16), 0x100);
        assert_eq!(affinity_of(33), 0x201);
        assert_eq!(cpu_of_affinity(0x101, 20), Some(17));
        assert_eq!(cpu_of_affinity(0x104, 20), None, "only 20 CPUs");
        assert_eq!(cpu_of_affinity(0x10, 64), None, "Aff0 stops at 15");
        assert_eq!(cpu_of_affinity(1 << 16, 64), None, "no Aff2");
    }

    #[test]
    fn sgi1r_routes_by_affinity_range_and_irm() {
        let (g, _) = gic(20);
        // Target list bit 2 in cluster Aff1 = 1: CPU 18.
        g.icc_write(0, IccReg::Sgi1r, (1 << 16) | (5 << 24) | 0b100);
        assert_eq!(pending_sgis(&g, 18), 1 << 5);
        assert_eq!((0..20).filter(|&c| pending_sgis(&g, c) != 0).count(), 1);
        // RS = 1 names Aff0 16..31, which no CPU has: nobody.
        g.icc_write(0, IccReg::Sgi1r, (1 << 44) | (6 << 24) | 0xffff);
        assert_eq!(
            (0..20)
                .filter(|&c| pending_sgis(&g, c) >> 6 & 1 != 0)
                .count(),
            0
        );
        // IRM = 1 from CPU 3: everybody else.
        g.icc_write(3, IccReg::Sgi1r, (1 << 40) | (7 << 24));
        for c in 0..20 {
            assert_eq!(pending_sgis(&g, c) >> 7 & 1 != 0, c != 3, "cpu {c}");
        }
        // A group-0 SGI request does not pend a group-1 SGI.
        g.icc_write(0, IccReg::Sgi0r, (8 << 24) | 1);
        assert_eq!(pending_sgis(&g, 0) >> 8 & 1, 0);
    }

    #[test]
    fn priority_preemption_and_eoi() {
        let (g, lines) = gic(1);
        for (id, p) in [(6u64, 0x80u64), (7, 0x40), (8, 0xc0)] {
            g.redist_write(rd(0, gicr::IPRIORITYR + id), 1, p);
        }
        for id in [6u64, 8, 7] {
            g.icc_write(0, IccReg::Sgi1r, (id << 24) | 1);
        }
        assert!(lines.irq(0));
        assert_eq!(g.icc_read(0, IccReg::Hppir1), 7);
        assert_eq!(g.icc_read(0, IccReg::Iar1), 7);
        assert_eq!(g.icc_read(0, IccReg::Rpr), 0x40);
        assert_eq!(g.icc_read(0, IccReg::Ap1r(0)), 1 << 8);
        assert!(!lines.irq(0), "0x80 does not preempt 0x40");
        assert_eq!(g.icc_read(0, IccReg::Iar1), SPURIOUS as u64);
        g.icc_write(0, IccReg::Eoir1, 7);
        assert_eq!(g.icc_read(0, IccReg::Rpr), 0xff);
        // The priority mask.
        g.icc_write(0, IccReg::Pmr, 0x80);
        assert!(!lines.irq(0));
        assert_eq!(g.icc_read(0, IccReg::Iar1), SPURIOUS as u64);
        g.icc_write(0, IccReg::Pmr, 0xff);
        assert_eq!(g.icc_read(0, IccReg::Pmr), 0xf8, "5 priority bits");
        // Nested: 6 then, after its EOI, 8; 7 preempts 8.
        assert_eq!(g.icc_read(0, IccReg::Iar1), 6);
        g.icc_write(0, IccReg::Eoir1, 6);
        assert_eq!(g.icc_read(0, IccReg::Iar1), 8);
        g.icc_write(0, IccReg::Sgi1r, (7 << 24) | 1);
        assert!(lines.irq(0), "0x40 preempts 0xc0");
        assert_eq!(g.icc_read(0, IccReg::Iar1), 7);
        assert_eq!(g.icc_read(0, IccReg::Ap1r(0)), (1 << 8) | (1 << 24));
        g.icc_write(0, IccReg::Eoir1, 7);
        assert_eq!(g.icc_read(0, IccReg::Rpr), 0xc0);
        g.icc_write(0, IccReg::Eoir1, 8);
        assert_eq!(g.icc_read(0, IccReg::Rpr), 0xff);
        assert_eq!(g.redist_read(rd(0, gicr::ISACTIVER0), 4), 0);
    }

    #[test]
    fn eoimode_splits_priority_drop_and_deactivation() {
        let (g, _) = gic(1);
        g.icc_write(0, IccReg::Ctlr, 2);
        assert_eq!(g.icc_read(0, IccReg::Ctlr), 0x8c02);
        g.icc_write(0, IccReg::Sgi1r, (3 << 24) | 1);
        assert_eq!(g.icc_read(0, IccReg::Iar1), 3);
        g.icc_write(0, IccReg::Eoir1, 3);
        assert_eq!(g.icc_read(0, IccReg::Rpr), 0xff);
        assert_eq!(g.redist_read(rd(0, gicr::ISACTIVER0), 4), 1 << 3);
        // Active: a new SGI 3 stays pending, not signalled.
        g.icc_write(0, IccReg::Sgi1r, (3 << 24) | 1);
        assert_eq!(g.icc_read(0, IccReg::Iar1), SPURIOUS as u64);
        g.icc_write(0, IccReg::Dir, 3);
        assert_eq!(g.redist_read(rd(0, gicr::ISACTIVER0), 4), 0);
        assert_eq!(g.icc_read(0, IccReg::Iar1), 3);
    }

    #[test]
    fn waker_handshake_and_redistributor_identity() {
        let g = GicV3::new(3);
        assert_eq!(g.redist_read(rd(1, gicr::WAKER), 4), 6);
        g.redist_write(rd(1, gicr::WAKER), 4, 0);
        assert_eq!(g.redist_read(rd(1, gicr::WAKER), 4), 0);
        g.redist_write(rd(1, gicr::WAKER), 4, 2);
        assert_eq!(g.redist_read(rd(1, gicr::WAKER), 4), 6);
        assert_eq!(g.redist_read(rd(0, gicr::TYPER), 8), 0x0100_0000);
        assert_eq!(g.redist_read(rd(2, gicr::TYPER), 8), 0x2_0100_0210);
        assert_eq!(g.redist_read(rd(2, gicr::TYPER + 4), 4), 2);
        assert_eq!(g.redist_read(rd(2, gicr::PIDR2), 4) >> 4 & 0xf, 3);
        assert_eq!(g.dist_read(gicd::PIDR2, 4) >> 4 & 0xf, 3);
        assert_eq!(g.redist_read(rd(2, gicr::ICFGR0), 4), 0xaaaa_aaaa);
        // Beyond the last CPU: nothing there.
        assert_eq!(g.redist_read(rd(3, gicr::TYPER), 8), 0);
        assert_eq!(g.dist_read(gicd::TYPER, 4) & 0x1f, 7, "256 INTIDs");
        assert_eq!(g.dist_read(gicd::TYPER, 4) >> 17 & 1, 0, "no LPIs");
    }

    #[test]
    fn irouter_moves_spis_between_cpus() {
        let (g, lines) = gic(18);
        let id = 40u64;
        g.dist_write(gicd::IGROUPR + 4, 4, 0xffff_ffff);
        g.dist_write(gicd::IPRIORITYR + id, 1, 0x90);
        g.dist_write(gicd::ISENABLER + 4, 4, 1 << (id - 32));
        g.dist_write(gicd::IROUTER + 8 * id, 8, 0x101); // CPU 17
        assert_eq!(g.dist_read(gicd::IROUTER + 8 * id, 8), 0x101);
        g.set_spi((id - 32) as usize, true);
        assert!(lines.irq(17) && !lines.irq(0));
        // 32-bit halves, and IRM = 1 (delivered to CPU 0 here).
        g.dist_write(gicd::IROUTER + 8 * id, 4, 1 << 31);
        assert!(lines.irq(0) && !lines.irq(17));
        // An affinity no CPU has: nobody.
        g.dist_write(gicd::IROUTER + 8 * id, 4, 0x500);
        assert!((0..18).all(|c| !lines.irq(c)));
        g.dist_write(gicd::IROUTER + 8 * id, 4, 0x1);
        assert_eq!(g.icc_read(1, IccReg::Iar1), id);
        g.set_spi((id - 32) as usize, false);
        g.icc_write(1, IccReg::Eoir1, id);
        assert!(!lines.irq(1));
        // SGIs and PPIs are not in the distributor with ARE = 1.
        g.dist_write(gicd::ISENABLER, 4, 1 << 27);
        assert_eq!(g.dist_read(gicd::ISENABLER, 4), 0);
    }

    #[test]
    fn ppi_level_and_group0_as_fiq() {
        let (g, lines) = gic(2);
        g.redist_write(rd(1, gicr::ISENABLER0), 4, 1 << 27);
        g.redist_write(rd(0, gicr::ISENABLER0), 4, 1 << 30);
        g.set_ppi(1, 27, true);
        assert!(lines.irq(1) && !lines.irq(0));
        assert_eq!(g.icc_read(1, IccReg::Iar1), 27);
        g.icc_write(1, IccReg::Eoir1, 27);
        assert!(lines.irq(1), "level still high: pending again");
        g.set_ppi(1, 27, false);
        assert!(!lines.irq(1));
        // PPI 30 in group 0 on CPU 0, group 0 enabled: FIQ, taken through IAR0.
        g.redist_write(rd(0, gicr::IGROUPR0), 4, !(1u64 << 30) & 0xffff_ffff);
        g.icc_write(0, IccReg::Igrpen0, 1);
        g.set_ppi(0, 30, true);
        assert!(lines.fiq(0) && !lines.irq(0));
        assert_eq!(g.icc_read(0, IccReg::Hppir1), SPURIOUS as u64);
        assert_eq!(g.icc_read(0, IccReg::Iar1), SPURIOUS as u64);
        assert_eq!(g.icc_read(0, IccReg::Iar0), 30);
        assert!(!lines.fiq(0));
        g.icc_write(0, IccReg::Eoir0, 30);
        assert_eq!(g.icc_read(0, IccReg::Ap0r(0)), 0);
    }

    #[test]
    fn out_of_range_accesses_are_ignored() {
        let g = GicV3::new(2);
        for off in [0u64, 0x7fff_fff8, 0xffff, u64::MAX - 7] {
            let _ = g.dist_read(off, 8);
            g.dist_write(off, 8, u64::MAX);
            let _ = g.redist_read(off, 8);
            g.redist_write(off, 8, u64::MAX);
        }
        g.icc_write(5, IccReg::Pmr, 0xff);
        assert_eq!(g.icc_read(5, IccReg::Pmr), 0);
        g.icc_write(0, IccReg::Dir, u64::MAX);
        g.icc_write(0, IccReg::Eoir1, u64::MAX);
        g.icc_write(0, IccReg::Sgi1r, u64::MAX);
    }
}
