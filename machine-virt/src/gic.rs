//! GICv2 (ARM IHI 0048B): distributor and CPU interface, without the Security Extensions
//! (as QEMU's virt presents it to an EL1 guest). 288 interrupt IDs: SGIs 0-15 and PPIs
//! 16-31 banked per CPU, SPIs 32-287 shared.
//!
//! Devices drive lines with [`Gic::set_spi`] / [`Gic::set_ppi`]; the GIC tells each CPU
//! whether its IRQ input is asserted through an [`IrqSink`].
//!
//! State is kept as bitmaps (one `u32` per CPU for the banked IDs, four `u64` words for
//! the SPIs, plus per-CPU "SPIs targeting me" masks), so finding a CPU's highest-priority
//! pending interrupt only visits the IDs that are enabled, pending and not active: the
//! timer tick and IPIs go through it many times per second per CPU.
//!
//! Simplifications: both groups are signalled as IRQ (GICC_CTLR.FIQEn is stored but no
//! FIQ is raised) and group-1 interrupts are acknowledged through GICC_IAR whatever
//! AckCtl says; all 8 priority bits are implemented.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

pub const NUM_IRQS: usize = 288;
pub const NUM_SPIS: usize = NUM_IRQS - 32;
const SPI_WORDS: usize = NUM_SPIS / 64;
pub const MAX_CPUS: usize = 8;
/// The ID read from GICC_IAR when nothing is pending.
pub const SPURIOUS: u32 = 1023;

/// Distributor register offsets.
pub mod gicd {
    pub const CTLR: u64 = 0x000;
    pub const TYPER: u64 = 0x004;
    pub const IIDR: u64 = 0x008;
    pub const IGROUPR: u64 = 0x080;
    pub const ISENABLER: u64 = 0x100;
    pub const ICENABLER: u64 = 0x180;
    pub const ISPENDR: u64 = 0x200;
    pub const ICPENDR: u64 = 0x280;
    pub const ISACTIVER: u64 = 0x300;
    pub const ICACTIVER: u64 = 0x380;
    pub const IPRIORITYR: u64 = 0x400;
    pub const ITARGETSR: u64 = 0x800;
    pub const ICFGR: u64 = 0xc00;
    pub const SGIR: u64 = 0xf00;
    pub const CPENDSGIR: u64 = 0xf10;
    pub const SPENDSGIR: u64 = 0xf20;
    pub const PIDR2: u64 = 0xfe8;
    pub const CIDR0: u64 = 0xff0;
    pub const SIZE: u64 = 0x1_0000;
}

/// CPU interface register offsets.
pub mod gicc {
    pub const CTLR: u64 = 0x00;
    pub const PMR: u64 = 0x04;
    pub const BPR: u64 = 0x08;
    pub const IAR: u64 = 0x0c;
    pub const EOIR: u64 = 0x10;
    pub const RPR: u64 = 0x14;
    pub const HPPIR: u64 = 0x18;
    pub const ABPR: u64 = 0x1c;
    pub const AIAR: u64 = 0x20;
    pub const AHPPIR: u64 = 0x28;
    pub const APR0: u64 = 0xd0;
    pub const IIDR: u64 = 0xfc;
    pub const DIR: u64 = 0x1000;
    pub const SIZE: u64 = 0x1_0000;
}

/// GICD_IIDR / GICC_IIDR: ARM as implementer, GICv2.
const GICD_IIDR_VALUE: u64 = 0x0200_043b;
const GICC_IIDR_VALUE: u64 = 0x0202_043b;
/// GICC_CTLR (no Security Extensions): EnableGrp0, EnableGrp1, AckCtl, FIQEn, CBPR, the
/// four bypass-disable bits, and EOImode (bit 9: EOIR only drops priority; GICC_DIR
/// deactivates).
const CTLR_ENABLE_GRPS: u32 = 3;
const CTLR_EOIMODE: u32 = 1 << 9;
const GICC_CTLR_MASK: u32 = 0x3ff;
/// PrimeCell component ID bytes (GICD_CIDR0..3).
const CIDR: [u64; 4] = [0x0d, 0xf0, 0x05, 0xb1];

/// Receives the IRQ input level of each CPU.
pub trait IrqSink: Send + Sync {
    fn set_irq(&self, cpu: usize, level: bool);
    /// The FIQ input (the GICv3 signals group 0 as FIQ; the GICv2 model never does).
    fn set_fiq(&self, cpu: usize, level: bool) {
        let _ = (cpu, level);
    }
}

/// A per-interrupt state bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Enabled,
    /// Latched pending state (edge, software, or SGI request).
    Pending,
    Active,
    /// Input line level (level-sensitive interrupts are pending while it is high).
    Level,
    /// Configured edge-triggered (ICFGR bit 1).
    Edge,
    Group1,
}

/// SGIs and PPIs of one CPU.
#[derive(Clone, Debug, Default)]
struct Banked {
    enabled: u32,
    pending: u32,
    active: u32,
    level: u32,
    edge: u32,
    group1: u32,
    priority: [u8; 32],
}

impl Banked {
    fn field(&mut self, f: Field) -> &mut u32 {
        match f {
            Field::Enabled => &mut self.enabled,
            Field::Pending => &mut self.pending,
            Field::Active => &mut self.active,
            Field::Level => &mut self.level,
            Field::Edge => &mut self.edge,
            Field::Group1 => &mut self.group1,
        }
    }
}

/// The shared peripheral interrupts.
#[derive(Clone, Debug)]
struct Spis {
    enabled: [u64; SPI_WORDS],
    pending: [u64; SPI_WORDS],
    active: [u64; SPI_WORDS],
    level: [u64; SPI_WORDS],
    edge: [u64; SPI_WORDS],
    group1: [u64; SPI_WORDS],
    priority: [u8; NUM_SPIS],
    targets: [u8; NUM_SPIS],
}

impl Spis {
    fn new() -> Spis {
        Spis {
            enabled: [0; SPI_WORDS],
            pending: [0; SPI_WORDS],
            active: [0; SPI_WORDS],
            level: [0; SPI_WORDS],
            edge: [0; SPI_WORDS],
            group1: [0; SPI_WORDS],
            priority: [0; NUM_SPIS],
            targets: [0; NUM_SPIS],
        }
    }

    fn field(&mut self, f: Field) -> &mut [u64; SPI_WORDS] {
        match f {
            Field::Enabled => &mut self.enabled,
            Field::Pending => &mut self.pending,
            Field::Active => &mut self.active,
            Field::Level => &mut self.level,
            Field::Edge => &mut self.edge,
            Field::Group1 => &mut self.group1,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct CpuIf {
    ctlr: u32,
    pmr: u8,
    bpr: u8,
    abpr: u8,
    /// Interrupts acknowledged and not yet priority-dropped: (id, priority), innermost last.
    running: Vec<(u32, u8)>,
    /// What we last told the sink.
    line: bool,
}

struct State {
    /// GICD_CTLR: EnableGrp0 (bit 0), EnableGrp1 (bit 1).
    ctlr: u32,
    banked: Vec<Banked>,
    spis: Spis,
    /// Per CPU: the SPIs whose ITARGETSR names it.
    spi_targets: Vec<[u64; SPI_WORDS]>,
    /// Per CPU, per SGI: mask of source CPUs with a pending request.
    sgi_sources: Vec<[u8; 16]>,
    cpus: Vec<CpuIf>,
}

/// Candidates among 32 or 64 IDs: the bits allowed by the group enables `groups`.
fn group_filter<T>(groups: u32, group1: T) -> T
where
    T: Copy + std::ops::Not<Output = T> + std::ops::BitOr<Output = T> + Default,
{
    let g0 = if groups & 1 != 0 {
        !group1
    } else {
        T::default()
    };
    let g1 = if groups & 2 != 0 {
        group1
    } else {
        T::default()
    };
    g0 | g1
}

impl State {
    fn get(&self, cpu: usize, id: usize, f: Field) -> bool {
        if id < 32 {
            let b = &self.banked[cpu];
            let w = match f {
                Field::Enabled => b.enabled,
                Field::Pending => b.pending,
                Field::Active => b.active,
                Field::Level => b.level,
                Field::Edge => b.edge,
                Field::Group1 => b.group1,
            };
            w >> id & 1 != 0
        } else {
            let s = &self.spis;
            let w = match f {
                Field::Enabled => &s.enabled,
                Field::Pending => &s.pending,
                Field::Active => &s.active,
                Field::Level => &s.level,
                Field::Edge => &s.edge,
                Field::Group1 => &s.group1,
            };
            let n = id - 32;
            w[n / 64] >> (n % 64) & 1 != 0
        }
    }

    fn put(&mut self, cpu: usize, id: usize, f: Field, v: bool) {
        if id < 32 {
            let w = self.banked[cpu].field(f);
            *w = (*w & !(1 << id)) | ((v as u32) << id);
        } else if id < NUM_IRQS {
            let n = id - 32;
            let w = &mut self.spis.field(f)[n / 64];
            *w = (*w & !(1 << (n % 64))) | ((v as u64) << (n % 64));
        }
    }

    /// Pending as GICD_ISPENDR reports it: latched, or a level-sensitive line held high.
    fn is_pending(&self, cpu: usize, id: usize) -> bool {
        self.get(cpu, id, Field::Pending)
            || (self.get(cpu, id, Field::Level) && !self.get(cpu, id, Field::Edge))
    }

    fn priority(&self, cpu: usize, id: usize) -> u8 {
        if id < 32 {
            self.banked[cpu].priority[id]
        } else {
            self.spis.priority[id - 32]
        }
    }

    fn running_priority(&self, cpu: usize) -> u8 {
        self.cpus[cpu]
            .running
            .iter()
            .map(|&(_, p)| p)
            .min()
            .unwrap_or(0xff)
    }

    /// The highest-priority (lowest value, then lowest ID) interrupt that is enabled,
    /// pending, not active, targets `cpu` and belongs to a group enabled in `groups`.
    fn hppi(&self, cpu: usize, groups: u32) -> Option<(u32, u8)> {
        if groups & CTLR_ENABLE_GRPS == 0 {
            return None;
        }
        let mut best: Option<(u32, u8)> = None;
        let mut consider = |id: u32, p: u8| {
            if best.is_none_or(|(_, bp)| p < bp) {
                best = Some((id, p));
            }
        };
        let b = &self.banked[cpu];
        let mut cand = b.enabled
            & (b.pending | (b.level & !b.edge))
            & !b.active
            & group_filter(groups, b.group1);
        while cand != 0 {
            let i = cand.trailing_zeros();
            cand &= cand - 1;
            consider(i, b.priority[i as usize]);
        }
        let s = &self.spis;
        let targets = &self.spi_targets[cpu];
        for (w, &targets) in targets.iter().enumerate() {
            let mut cand = s.enabled[w]
                & (s.pending[w] | (s.level[w] & !s.edge[w]))
                & !s.active[w]
                & targets
                & group_filter(groups, s.group1[w]);
            while cand != 0 {
                let n = w * 64 + cand.trailing_zeros() as usize;
                cand &= cand - 1;
                consider(32 + n as u32, s.priority[n]);
            }
        }
        best
    }

    /// The interrupt `cpu` is being signalled, if any: the highest-priority one of a group
    /// enabled in both the distributor and the CPU interface, above the priority mask, and
    /// whose group priority preempts the running priority.
    fn signalled(&self, cpu: usize) -> Option<(u32, u8)> {
        let c = &self.cpus[cpu];
        let (id, prio) = self.hppi(cpu, self.ctlr & c.ctlr)?;
        // Preemption compares group priorities (the bits above the binary point).
        let mask = (0xffu16 << (c.bpr.min(7) + 1)) as u8;
        (prio < c.pmr && (prio & mask) < (self.running_priority(cpu) & mask)).then_some((id, prio))
    }
}

pub struct Gic {
    ncpus: usize,
    state: Mutex<State>,
    sink: OnceLock<Arc<dyn IrqSink>>,
}

impl Gic {
    pub fn new(ncpus: usize) -> Gic {
        let ncpus = ncpus.clamp(1, MAX_CPUS);
        // SGIs are always enabled and edge-triggered in GICv2.
        let banked = Banked {
            enabled: 0xffff,
            edge: 0xffff,
            ..Banked::default()
        };
        // A uniprocessor GIC sends every SPI to its one CPU (ITARGETSR is RAZ/WI there).
        let all = if ncpus == 1 { u64::MAX } else { 0 };
        let state = State {
            ctlr: 0,
            banked: vec![banked; ncpus],
            spis: Spis::new(),
            spi_targets: vec![[all; SPI_WORDS]; ncpus],
            sgi_sources: vec![[0; 16]; ncpus],
            cpus: vec![CpuIf::default(); ncpus],
        };
        Gic {
            ncpus,
            state: Mutex::new(state),
            sink: OnceLock::new(),
        }
    }

    pub fn ncpus(&self) -> usize {
        self.ncpus
    }

    /// Connects the CPUs' IRQ inputs (once, when they exist).
    pub fn connect(&self, sink: Arc<dyn IrqSink>) {
        let _ = self.sink.set(sink);
        self.update(&mut self.lock());
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Recomputes every CPU's IRQ line and tells the sink about changes (under the lock,
    /// so the sink sees the levels in the order they were decided).
    fn update(&self, s: &mut State) {
        for cpu in 0..self.ncpus {
            let level = s.signalled(cpu).is_some();
            if level != s.cpus[cpu].line {
                s.cpus[cpu].line = level;
                if let Some(sink) = self.sink.get() {
                    sink.set_irq(cpu, level);
                }
            }
        }
    }

    /// Drives an interrupt input: a rising edge latches an edge-triggered interrupt.
    fn drive(&self, cpu: usize, id: usize, level: bool) {
        let mut s = self.lock();
        if s.get(cpu, id, Field::Level) == level {
            return;
        }
        if level && s.get(cpu, id, Field::Edge) {
            s.put(cpu, id, Field::Pending, true);
        }
        s.put(cpu, id, Field::Level, level);
        self.update(&mut s);
    }

    /// Drives SPI `n` (GIC ID 32 + n).
    pub fn set_spi(&self, n: usize, level: bool) {
        if n < NUM_SPIS {
            self.drive(0, 32 + n, level);
        }
    }

    /// Drives PPI `id` (16..=31) of `cpu`.
    pub fn set_ppi(&self, cpu: usize, id: usize, level: bool) {
        if cpu < self.ncpus && (16..32).contains(&id) {
            self.drive(cpu, id, level);
        }
    }

    /// Whether `cpu`'s IRQ input is asserted now.
    pub fn irq_line(&self, cpu: usize) -> bool {
        cpu < self.ncpus && self.lock().cpus[cpu].line
    }

    /// The interrupt IDs covered by a `bits_per_irq`-wide field register access of `size`
    /// bytes at `off` (relative to the register array base), with each one's bit shift.
    fn ids(off: u64, size: u32, bits_per_irq: u32) -> impl Iterator<Item = (usize, u32)> {
        let first = (off * 8 / bits_per_irq as u64) as usize;
        let n = (size.min(8) * 8 / bits_per_irq) as usize;
        (0..n)
            .map(move |k| (first + k, k as u32 * bits_per_irq))
            .filter(|&(id, _)| id < NUM_IRQS)
    }

    /// Which bit register array (set/clear pair) an offset falls in: its field, whether it
    /// is the clear half, and the offset of the array's base.
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

    pub fn dist_read(&self, cpu: usize, offset: u64, size: u32) -> u64 {
        let cpu = cpu.min(self.ncpus - 1);
        let s = self.lock();
        if let Some((f, _, base)) = Self::bit_array(offset) {
            return Self::ids(offset - base, size, 1).fold(0, |acc, (id, sh)| {
                let v = if f == Field::Pending {
                    s.is_pending(cpu, id)
                } else {
                    s.get(cpu, id, f)
                };
                acc | (v as u64) << sh
            });
        }
        match offset {
            gicd::CTLR => s.ctlr as u64,
            gicd::TYPER => ((NUM_IRQS / 32 - 1) | ((self.ncpus - 1) << 5)) as u64,
            gicd::IIDR => GICD_IIDR_VALUE,
            o if (gicd::IPRIORITYR..gicd::IPRIORITYR + NUM_IRQS as u64).contains(&o) => {
                Self::ids(o - gicd::IPRIORITYR, size, 8)
                    .fold(0, |acc, (id, sh)| acc | (s.priority(cpu, id) as u64) << sh)
            }
            o if (gicd::ITARGETSR..gicd::ITARGETSR + NUM_IRQS as u64).contains(&o) => {
                Self::ids(o - gicd::ITARGETSR, size, 8).fold(0, |acc, (id, sh)| {
                    let t = if self.ncpus == 1 {
                        0
                    } else if id < 32 {
                        // Banked: each CPU reads its own bit (Linux's gic_get_cpumask).
                        1u64 << cpu
                    } else {
                        s.spis.targets[id - 32] as u64
                    };
                    acc | t << sh
                })
            }
            o if (gicd::ICFGR..gicd::ICFGR + NUM_IRQS as u64 / 4).contains(&o) => {
                Self::ids(o - gicd::ICFGR, size, 2).fold(0, |acc, (id, sh)| {
                    acc | ((s.get(cpu, id, Field::Edge) as u64) << 1) << sh
                })
            }
            o if (gicd::CPENDSGIR..gicd::SPENDSGIR + 16).contains(&o) => {
                let first = ((o - gicd::CPENDSGIR) & 0xf) as usize;
                (0..size.min(8) as usize)
                    .filter(|k| first + k < 16)
                    .fold(0, |acc, k| {
                        acc | (s.sgi_sources[cpu][first + k] as u64) << (8 * k)
                    })
            }
            gicd::PIDR2 => 0x2b,
            o if (gicd::CIDR0..gicd::CIDR0 + 16).contains(&o) && o % 4 == 0 => {
                CIDR[((o - gicd::CIDR0) / 4) as usize]
            }
            _ => 0,
        }
    }

    pub fn dist_write(&self, cpu: usize, offset: u64, size: u32, value: u64) {
        let cpu = cpu.min(self.ncpus - 1);
        let mut s = self.lock();
        if let Some((f, clear, base)) = Self::bit_array(offset) {
            for (id, sh) in Self::ids(offset - base, size, 1) {
                let bit = value >> sh & 1 != 0;
                match f {
                    Field::Group1 => s.put(cpu, id, f, bit),
                    _ if !bit => {}
                    // SGIs are always enabled in GICv2; their pending state is set
                    // through GICD_SGIR / GICD_SPENDSGIR.
                    Field::Enabled | Field::Pending if id < 16 && !clear => {}
                    Field::Enabled if id < 16 => {}
                    Field::Pending if id < 16 => {
                        s.sgi_sources[cpu][id] = 0;
                        s.put(cpu, id, f, false);
                    }
                    _ => s.put(cpu, id, f, !clear),
                }
            }
            self.update(&mut s);
            return;
        }
        match offset {
            gicd::CTLR => s.ctlr = (value as u32) & CTLR_ENABLE_GRPS,
            o if (gicd::IPRIORITYR..gicd::IPRIORITYR + NUM_IRQS as u64).contains(&o) => {
                for (id, sh) in Self::ids(o - gicd::IPRIORITYR, size, 8) {
                    let p = (value >> sh) as u8;
                    if id < 32 {
                        s.banked[cpu].priority[id] = p;
                    } else {
                        s.spis.priority[id - 32] = p;
                    }
                }
            }
            o if (gicd::ITARGETSR..gicd::ITARGETSR + NUM_IRQS as u64).contains(&o) => {
                if self.ncpus > 1 {
                    let valid = ((1u16 << self.ncpus) - 1) as u8;
                    for (id, sh) in Self::ids(o - gicd::ITARGETSR, size, 8) {
                        if id >= 32 {
                            let n = id - 32;
                            let t = (value >> sh) as u8 & valid;
                            s.spis.targets[n] = t;
                            for (c, mask) in s.spi_targets.iter_mut().enumerate() {
                                let w = &mut mask[n / 64];
                                *w = (*w & !(1 << (n % 64))) | (((t >> c) & 1) as u64) << (n % 64);
                            }
                        }
                    }
                }
            }
            o if (gicd::ICFGR..gicd::ICFGR + NUM_IRQS as u64 / 4).contains(&o) => {
                for (id, sh) in Self::ids(o - gicd::ICFGR, size, 2) {
                    // SGIs are always edge-triggered; PPIs and SPIs take the setting.
                    if id >= 16 {
                        s.put(cpu, id, Field::Edge, value >> (sh + 1) & 1 != 0);
                    }
                }
            }
            gicd::SGIR => {
                let id = (value & 0xf) as usize;
                let all = ((1u16 << self.ncpus) - 1) as u8;
                let targets = match (value >> 24) & 3 {
                    0 => (value >> 16) as u8 & all,
                    1 => all & !(1 << cpu),
                    2 => 1 << cpu,
                    _ => 0,
                };
                for t in 0..self.ncpus {
                    if targets & (1 << t) != 0 {
                        s.sgi_sources[t][id] |= 1 << cpu;
                        s.put(t, id, Field::Pending, true);
                    }
                }
            }
            o if (gicd::CPENDSGIR..gicd::SPENDSGIR + 16).contains(&o) => {
                let set = o >= gicd::SPENDSGIR;
                let first = ((o - gicd::CPENDSGIR) & 0xf) as usize;
                for k in 0..size.min(8) as usize {
                    let id = first + k;
                    if id >= 16 {
                        break;
                    }
                    let m = (value >> (8 * k)) as u8 & (((1u16 << self.ncpus) - 1) as u8);
                    if set {
                        s.sgi_sources[cpu][id] |= m;
                    } else {
                        s.sgi_sources[cpu][id] &= !m;
                    }
                    let p = s.sgi_sources[cpu][id] != 0;
                    s.put(cpu, id, Field::Pending, p);
                }
            }
            _ => return,
        }
        self.update(&mut s);
    }

    pub fn cpu_read(&self, cpu: usize, offset: u64, _size: u32) -> u64 {
        let cpu = cpu.min(self.ncpus - 1);
        let mut s = self.lock();
        match offset {
            gicc::CTLR => s.cpus[cpu].ctlr as u64,
            gicc::PMR => s.cpus[cpu].pmr as u64,
            gicc::BPR => s.cpus[cpu].bpr as u64,
            gicc::ABPR => s.cpus[cpu].abpr as u64,
            gicc::IAR => {
                let v = Self::acknowledge(&mut s, cpu);
                self.update(&mut s);
                v as u64
            }
            gicc::RPR => s.running_priority(cpu) as u64,
            gicc::HPPIR => {
                let groups = s.ctlr;
                match s.hppi(cpu, groups) {
                    Some((id, _)) if id < 16 => {
                        let src = s.sgi_sources[cpu][id as usize].trailing_zeros();
                        (id | (src & 7) << 10) as u64
                    }
                    Some((id, _)) => id as u64,
                    None => SPURIOUS as u64,
                }
            }
            gicc::AIAR | gicc::AHPPIR => SPURIOUS as u64,
            gicc::IIDR => GICC_IIDR_VALUE,
            _ => 0,
        }
    }

    fn acknowledge(s: &mut State, cpu: usize) -> u32 {
        let Some((id, prio)) = s.signalled(cpu) else {
            return SPURIOUS;
        };
        let i = id as usize;
        let mut ret = id;
        if i < 16 {
            // Lowest-numbered requesting CPU first; its number goes in bits 12:10.
            let src = s.sgi_sources[cpu][i].trailing_zeros();
            s.sgi_sources[cpu][i] &= !(1 << src);
            let more = s.sgi_sources[cpu][i] != 0;
            s.put(cpu, i, Field::Pending, more);
            ret |= (src & 7) << 10;
        } else {
            // A level-sensitive line still high keeps it pending (active and pending).
            s.put(cpu, i, Field::Pending, false);
        }
        s.put(cpu, i, Field::Active, true);
        s.cpus[cpu].running.push((id, prio));
        ret
    }

    pub fn cpu_write(&self, cpu: usize, offset: u64, _size: u32, value: u64) {
        let cpu = cpu.min(self.ncpus - 1);
        let mut s = self.lock();
        match offset {
            gicc::CTLR => s.cpus[cpu].ctlr = (value as u32) & GICC_CTLR_MASK,
            gicc::PMR => s.cpus[cpu].pmr = value as u8,
            gicc::BPR => s.cpus[cpu].bpr = (value & 7) as u8,
            gicc::ABPR => s.cpus[cpu].abpr = (value & 7) as u8,
            gicc::EOIR => {
                let id = (value & 0x3ff) as u32;
                // Priority drop: the most recent acknowledgement of this ID.
                let c = &mut s.cpus[cpu];
                if let Some(pos) = c.running.iter().rposition(|&(i, _)| i == id) {
                    c.running.remove(pos);
                    if c.ctlr & CTLR_EOIMODE == 0 {
                        s.put(cpu, id as usize, Field::Active, false);
                    }
                }
            }
            gicc::DIR => s.put(cpu, (value & 0x3ff) as usize, Field::Active, false),
            _ => return,
        }
        self.update(&mut s);
    }
}

/// The distributor as an MMIO window; `current_cpu` says which CPU is accessing.
pub struct GicDist {
    pub gic: Arc<Gic>,
    pub current_cpu: Arc<dyn Fn() -> usize + Send + Sync>,
}

impl softmmu::MmioDevice for GicDist {
    fn read(&self, offset: u64, size: u32) -> u64 {
        self.gic.dist_read((self.current_cpu)(), offset, size)
    }
    fn write(&self, offset: u64, size: u32, value: u64) {
        self.gic
            .dist_write((self.current_cpu)(), offset, size, value)
    }
}

/// The (banked) CPU interface as an MMIO window.
pub struct GicCpu {
    pub gic: Arc<Gic>,
    pub current_cpu: Arc<dyn Fn() -> usize + Send + Sync>,
}

impl softmmu::MmioDevice for GicCpu {
    fn read(&self, offset: u64, size: u32) -> u64 {
        self.gic.cpu_read((self.current_cpu)(), offset, size)
    }
    fn write(&self, offset: u64, size: u32, value: u64) {
        self.gic
            .cpu_write((self.current_cpu)(), offset, size, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Lines(Mutex<[bool; MAX_CPUS]>);
    impl IrqSink for Lines {
        fn set_irq(&self, cpu: usize, level: bool) {
            self.0.lock().unwrap()[cpu] = level;
        }
    }

    fn gic(n: usize) -> (Gic, Arc<Lines>) {
        let g = Gic::new(n);
        let l = Arc::new(Lines::default());
        g.connect(l.clone());
        for c in 0..n {
            g.cpu_write(c, gicc::CTLR, 4, 1);
            g.cpu_write(c, gicc::PMR, 4, 0xf0);
        }
        g.dist_write(0, gicd::CTLR, 4, 1);
        (g, l)
    }

    #[test]
    fn spi_level_ack_eoi_cycle() {
        let (g, lines) = gic(2);
        let id = 32 + 1; // the UART's SPI 1
        g.dist_write(0, gicd::ISENABLER + 4, 4, 1 << 1);
        g.dist_write(0, gicd::IPRIORITYR + id as u64, 1, 0xa0);
        g.dist_write(0, gicd::ITARGETSR + id as u64, 1, 0b10);
        g.set_spi(1, true);
        assert!(
            !lines.0.lock().unwrap()[0] && lines.0.lock().unwrap()[1],
            "targets CPU 1 only"
        );
        assert_eq!(g.cpu_read(1, gicc::IAR, 4), id as u64);
        assert!(!lines.0.lock().unwrap()[1], "active: no longer signalled");
        assert_eq!(g.cpu_read(1, gicc::IAR, 4), SPURIOUS as u64);
        g.set_spi(1, false);
        g.cpu_write(1, gicc::EOIR, 4, id as u64);
        assert_eq!(g.dist_read(1, gicd::ISACTIVER + 4, 4) & 2, 0);
        assert!(!lines.0.lock().unwrap()[1]);
    }

    #[test]
    fn sgi_carries_source_and_reaches_targets() {
        let (g, lines) = gic(4);
        // CPU 2 sends SGI 3 to CPUs 0 and 1.
        g.dist_write(2, gicd::SGIR, 4, (0b0011 << 16) | 3);
        assert_eq!(
            *lines.0.lock().unwrap(),
            [true, true, false, false, false, false, false, false]
        );
        assert_eq!(g.cpu_read(0, gicc::IAR, 4), (2 << 10) | 3);
        g.cpu_write(0, gicc::EOIR, 4, (2 << 10) | 3);
        // "All but self" from CPU 0.
        g.dist_write(0, gicd::SGIR, 4, (1 << 24) | 5);
        assert_eq!(g.cpu_read(3, gicc::IAR, 4), 5);
        assert_eq!(g.cpu_read(0, gicc::HPPIR, 4), SPURIOUS as u64);
    }

    #[test]
    fn priority_mask_and_preemption() {
        let (g, lines) = gic(1);
        // PPI 27 (virtual timer) at priority 0x80, SPI 2 at 0x40.
        g.dist_write(0, gicd::ISENABLER, 4, 1 << 27);
        g.dist_write(0, gicd::ISENABLER + 4, 4, 1 << 2);
        g.dist_write(0, gicd::IPRIORITYR + 27, 1, 0x80);
        g.dist_write(0, gicd::IPRIORITYR + 34, 1, 0x40);
        g.cpu_write(0, gicc::PMR, 4, 0x80);
        g.set_ppi(0, 27, true);
        assert!(
            !lines.0.lock().unwrap()[0],
            "priority 0x80 is masked by PMR 0x80"
        );
        g.cpu_write(0, gicc::PMR, 4, 0xff);
        assert_eq!(g.cpu_read(0, gicc::IAR, 4), 27);
        g.set_spi(2, true);
        assert!(lines.0.lock().unwrap()[0], "a higher priority preempts");
        assert_eq!(g.cpu_read(0, gicc::IAR, 4), 34);
        assert_eq!(g.cpu_read(0, gicc::RPR, 4), 0x40);
        g.cpu_write(0, gicc::EOIR, 4, 34);
        g.cpu_write(0, gicc::EOIR, 4, 27);
        assert_eq!(g.cpu_read(0, gicc::RPR, 4), 0xff);
    }

    #[test]
    fn eoimode_splits_drop_and_deactivate() {
        let (g, _) = gic(1);
        g.cpu_write(0, gicc::CTLR, 4, 1 | CTLR_EOIMODE as u64);
        g.dist_write(0, gicd::ISENABLER + 4, 4, 1);
        g.dist_write(0, gicd::IPRIORITYR + 32, 1, 0x10);
        g.set_spi(0, true);
        assert_eq!(g.cpu_read(0, gicc::IAR, 4), 32);
        g.cpu_write(0, gicc::EOIR, 4, 32);
        assert_eq!(
            g.dist_read(0, gicd::ISACTIVER + 4, 4) & 1,
            1,
            "still active after EOIR"
        );
        g.cpu_write(0, gicc::DIR, 4, 32);
        assert_eq!(g.dist_read(0, gicd::ISACTIVER + 4, 4) & 1, 0);
    }

    #[test]
    fn typer_and_ids_describe_the_gic() {
        let (g, _) = gic(4);
        assert_eq!(g.dist_read(0, gicd::TYPER, 4), 8 | (3 << 5));
        assert_eq!(g.dist_read(0, gicd::PIDR2, 4) >> 4 & 0xf, 2);
        assert_eq!(
            g.dist_read(2, gicd::ITARGETSR, 4),
            0x0404_0404,
            "banked targets read as self"
        );
    }

    #[test]
    fn level_interrupt_repends_after_eoi_while_high() {
        let (g, lines) = gic(1);
        g.dist_write(0, gicd::ISENABLER, 4, 1 << 27);
        g.set_ppi(0, 27, true);
        assert_eq!(g.cpu_read(0, gicc::IAR, 4), 27);
        assert_eq!(
            g.dist_read(0, gicd::ISPENDR, 4) >> 27 & 1,
            1,
            "active and pending"
        );
        g.cpu_write(0, gicc::EOIR, 4, 27);
        assert!(lines.0.lock().unwrap()[0], "still high: signalled again");
        assert_eq!(g.cpu_read(0, gicc::IAR, 4), 27);
        g.set_ppi(0, 27, false);
        g.cpu_write(0, gicc::EOIR, 4, 27);
        assert!(!lines.0.lock().unwrap()[0]);
        assert_eq!(g.cpu_read(0, gicc::IAR, 4), SPURIOUS as u64);
    }

    #[test]
    fn edge_spi_latches_and_icpendr_clears() {
        let (g, lines) = gic(1);
        g.dist_write(0, gicd::ICFGR + 8, 4, 0b10 << 4); // SPI 2 (ID 34): edge
        g.dist_write(0, gicd::ISENABLER + 4, 4, 1 << 2);
        g.set_spi(2, true);
        g.set_spi(2, false);
        assert!(lines.0.lock().unwrap()[0], "the edge was latched");
        g.dist_write(0, gicd::ICPENDR + 4, 4, 1 << 2);
        assert!(!lines.0.lock().unwrap()[0]);
        g.dist_write(0, gicd::ISPENDR + 4, 4, 1 << 2);
        assert_eq!(g.cpu_read(0, gicc::HPPIR, 4), 34);
        assert_eq!(g.cpu_read(0, gicc::IAR, 4), 34);
        assert_eq!(
            g.dist_read(0, gicd::ISPENDR + 4, 4) & 4,
            0,
            "ack consumed it"
        );
    }

    #[test]
    fn retargeting_an_spi_moves_it_between_cpus() {
        let (g, lines) = gic(4);
        g.dist_write(0, gicd::ISENABLER + 4, 4, 1);
        g.dist_write(0, gicd::ITARGETSR + 32, 1, 0b0100);
        g.set_spi(0, true);
        assert_eq!(
            *lines.0.lock().unwrap(),
            [false, false, true, false, false, false, false, false]
        );
        g.dist_write(1, gicd::ITARGETSR + 32, 4, 0x0000_0009);
        assert_eq!(
            *lines.0.lock().unwrap(),
            [true, false, false, true, false, false, false, false]
        );
        assert_eq!(g.dist_read(3, gicd::ITARGETSR + 32, 1), 9);
        // Once one CPU has it active, the other no longer sees it.
        assert_eq!(g.cpu_read(3, gicc::IAR, 4), 32);
        assert!(!lines.0.lock().unwrap()[0]);
        assert_eq!(g.cpu_read(0, gicc::IAR, 4), SPURIOUS as u64);
    }

    #[test]
    fn ties_go_to_the_lowest_id_and_groups_gate_forwarding() {
        let (g, lines) = gic(1);
        g.dist_write(0, gicd::ISENABLER + 4, 4, 0b1100); // IDs 34 and 35
        g.dist_write(0, gicd::IPRIORITYR + 32, 4, 0x5050_0000);
        g.set_spi(3, true);
        g.set_spi(2, true);
        assert_eq!(g.cpu_read(0, gicc::HPPIR, 4), 34);
        // Put ID 34 in group 1: with only group 0 enabled, 35 is next.
        g.dist_write(0, gicd::IGROUPR + 4, 4, 1 << 2);
        assert_eq!(g.cpu_read(0, gicc::HPPIR, 4), 35);
        g.dist_write(0, gicd::CTLR, 4, 0b10);
        assert_eq!(
            g.cpu_read(0, gicc::IAR, 4),
            SPURIOUS as u64,
            "the CPU interface enables group 0 only"
        );
        assert_eq!(g.dist_read(0, gicd::CTLR, 4), 0b10);
        assert!(!lines.0.lock().unwrap()[0]);
        g.cpu_write(0, gicc::CTLR, 4, 0b11);
        g.dist_write(0, gicd::CTLR, 4, 0b11);
        assert_eq!(g.cpu_read(0, gicc::IAR, 4), 34);
    }

    #[test]
    fn sgis_pend_per_source_and_cannot_be_disabled() {
        let (g, _) = gic(4);
        g.dist_write(0, gicd::ICENABLER, 4, 0xffff_ffff);
        assert_eq!(
            g.dist_read(0, gicd::ISENABLER, 4),
            0xffff,
            "SGIs stay enabled"
        );
        g.dist_write(1, gicd::SGIR, 4, (0b1 << 16) | 9);
        g.dist_write(3, gicd::SGIR, 4, (0b1 << 16) | 9);
        assert_eq!(
            g.dist_read(0, gicd::CPENDSGIR + 9, 1),
            0b1010,
            "sources 1 and 3"
        );
        assert_eq!(g.cpu_read(0, gicc::HPPIR, 4), (1 << 10) | 9);
        assert_eq!(g.cpu_read(0, gicc::IAR, 4), (1 << 10) | 9);
        g.cpu_write(0, gicc::EOIR, 4, (1 << 10) | 9);
        assert_eq!(g.cpu_read(0, gicc::IAR, 4), (3 << 10) | 9);
        g.cpu_write(0, gicc::EOIR, 4, (3 << 10) | 9);
        g.dist_write(0, gicd::SPENDSGIR + 4, 1, 0b100);
        assert_eq!(g.cpu_read(0, gicc::IAR, 4), (2 << 10) | 4);
    }

    #[test]
    fn per_cpu_ppi_state_is_banked() {
        let (g, lines) = gic(2);
        g.dist_write(1, gicd::ISENABLER, 4, 1 << 30);
        g.dist_write(1, gicd::IPRIORITYR + 28, 4, 0x20 << 16);
        g.set_ppi(0, 30, true);
        assert!(!lines.0.lock().unwrap()[0], "not enabled on CPU 0");
        g.set_ppi(1, 30, true);
        assert!(lines.0.lock().unwrap()[1]);
        assert_eq!(g.dist_read(0, gicd::IPRIORITYR + 28, 4), 0);
        assert_eq!(g.dist_read(1, gicd::IPRIORITYR + 28, 4), 0x20 << 16);
        assert_eq!(
            g.dist_read(0, gicd::ISPENDR, 4) >> 30 & 1,
            1,
            "pending on 0"
        );
    }
}
