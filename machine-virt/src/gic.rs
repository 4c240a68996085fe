//! GICv2 (ARM IHI 0048B): distributor and CPU interface, without security extensions (as
//! QEMU's virt with `-M virt` and EL1 guests presents it). 288 interrupt IDs: SGIs 0-15
//! and PPIs 16-31 banked per CPU, SPIs 32-287 shared.
//!
//! Devices drive lines with [`Gic::set_spi`] / [`Gic::set_ppi`]; the GIC tells each CPU
//! whether its IRQ input is asserted through an [`IrqSink`].

use std::sync::{Arc, Mutex, OnceLock};

pub const NUM_IRQS: usize = 288;
pub const NUM_SPIS: usize = NUM_IRQS - 32;
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
    pub const APR0: u64 = 0xd0;
    pub const IIDR: u64 = 0xfc;
    pub const DIR: u64 = 0x1000;
    pub const SIZE: u64 = 0x1_0000;
}

/// GICD_IIDR / GICC_IIDR: ARM as implementer, GICv2.
const GICD_IIDR_VALUE: u64 = 0x0200_043b;
const GICC_IIDR_VALUE: u64 = 0x0202_043b;
/// GICC_CTLR.EOImodeNS: EOIR only drops priority; GICC_DIR deactivates.
const CTLR_EOIMODE: u32 = 1 << 9;

/// Receives the IRQ input level of each CPU.
pub trait IrqSink: Send + Sync {
    fn set_irq(&self, cpu: usize, level: bool);
}

#[derive(Clone, Copy, Debug, Default)]
struct Irq {
    enabled: bool,
    /// Latched pending state (edge, or set by software).
    pending: bool,
    active: bool,
    /// Input line level (level-sensitive interrupts are pending while it is high).
    level: bool,
    edge: bool,
    priority: u8,
    /// SPIs: CPU target mask.
    targets: u8,
    group1: bool,
}

impl Irq {
    fn is_pending(&self) -> bool {
        self.pending || (!self.edge && self.level)
    }
}

#[derive(Clone, Debug, Default)]
struct CpuIf {
    ctlr: u32,
    pmr: u8,
    bpr: u8,
    /// Interrupts acknowledged and not yet priority-dropped: (id, priority), innermost last.
    running: Vec<(u32, u8)>,
    /// What we last told the sink.
    line: bool,
}

struct State {
    ctlr: u32,
    spis: Vec<Irq>,
    /// SGIs and PPIs, per CPU.
    banked: Vec<[Irq; 32]>,
    /// Per CPU, per SGI: mask of source CPUs with a pending request.
    sgi_sources: Vec<[u8; 16]>,
    cpus: Vec<CpuIf>,
}

impl State {
    fn irq(&self, cpu: usize, id: usize) -> &Irq {
        if id < 32 {
            &self.banked[cpu][id]
        } else {
            &self.spis[id - 32]
        }
    }

    fn irq_mut(&mut self, cpu: usize, id: usize) -> &mut Irq {
        if id < 32 {
            &mut self.banked[cpu][id]
        } else {
            &mut self.spis[id - 32]
        }
    }

    fn targets_cpu(&self, cpu: usize, id: usize) -> bool {
        // A uniprocessor GIC sends every SPI to its one CPU (ITARGETSR is RAZ/WI there).
        id < 32 || self.cpus.len() == 1 || self.spis[id - 32].targets & (1 << cpu) != 0
    }

    fn running_priority(&self, cpu: usize) -> u8 {
        self.cpus[cpu]
            .running
            .iter()
            .map(|&(_, p)| p)
            .min()
            .unwrap_or(0xff)
    }

    /// The highest-priority pending, enabled, not active interrupt for `cpu`.
    fn hppi(&self, cpu: usize) -> Option<(u32, u8)> {
        let mut best: Option<(u32, u8)> = None;
        for id in 0..NUM_IRQS {
            let irq = self.irq(cpu, id);
            let candidate =
                irq.enabled && irq.is_pending() && !irq.active && self.targets_cpu(cpu, id);
            if candidate && best.is_none_or(|(_, p)| irq.priority < p) {
                best = Some((id as u32, irq.priority));
            }
        }
        best
    }

    /// Whether `cpu`'s IRQ input should be asserted.
    fn signal(&self, cpu: usize) -> bool {
        let c = &self.cpus[cpu];
        if self.ctlr & 1 == 0 || c.ctlr & 1 == 0 {
            return false;
        }
        let Some((_, prio)) = self.hppi(cpu) else {
            return false;
        };
        // Preemption compares group priorities (the bits above the binary point).
        let mask = (0xffu16 << (c.bpr.min(7) + 1)) as u8;
        prio < c.pmr && (prio & mask) < (self.running_priority(cpu) & mask)
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
        let mut banked = vec![[Irq::default(); 32]; ncpus];
        for b in banked.iter_mut() {
            // SGIs are always enabled and edge-triggered in GICv2.
            for sgi in b.iter_mut().take(16) {
                sgi.enabled = true;
                sgi.edge = true;
            }
        }
        let state = State {
            ctlr: 0,
            spis: vec![Irq::default(); NUM_SPIS],
            banked,
            sgi_sources: vec![[0; 16]; ncpus],
            cpus: vec![CpuIf::default(); ncpus],
        };
        Gic {
            ncpus,
            state: Mutex::new(state),
            sink: OnceLock::new(),
        }
    }

    /// Connects the CPUs' IRQ inputs (once, when they exist).
    pub fn connect(&self, sink: Arc<dyn IrqSink>) {
        let _ = self.sink.set(sink);
        self.update(&mut self.lock());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Recomputes every CPU's IRQ line and tells the sink about changes.
    fn update(&self, s: &mut State) {
        for cpu in 0..self.ncpus {
            let level = s.signal(cpu);
            if level != s.cpus[cpu].line {
                s.cpus[cpu].line = level;
                if let Some(sink) = self.sink.get() {
                    sink.set_irq(cpu, level);
                }
            }
        }
    }

    /// Drives SPI `n` (GIC ID 32 + n).
    pub fn set_spi(&self, n: usize, level: bool) {
        if n >= NUM_SPIS {
            return;
        }
        let mut s = self.lock();
        let irq = &mut s.spis[n];
        if irq.edge && level && !irq.level {
            irq.pending = true;
        }
        irq.level = level;
        self.update(&mut s);
    }

    /// Drives PPI `id` (16..=31) of `cpu`.
    pub fn set_ppi(&self, cpu: usize, id: usize, level: bool) {
        if cpu >= self.ncpus || !(16..32).contains(&id) {
            return;
        }
        let mut s = self.lock();
        let irq = &mut s.banked[cpu][id];
        if irq.edge && level && !irq.level {
            irq.pending = true;
        }
        irq.level = level;
        self.update(&mut s);
    }

    /// Whether `cpu`'s IRQ input is asserted now.
    pub fn irq_line(&self, cpu: usize) -> bool {
        cpu < self.ncpus && self.lock().cpus[cpu].line
    }

    /// Calls `f(cpu, id)` for each interrupt ID covered by a `bits_per_irq`-wide field
    /// register access at `off` (relative to the register array base).
    fn ids(off: u64, size: u32, bits_per_irq: u32) -> impl Iterator<Item = (usize, u32)> {
        let first = (off * 8 / bits_per_irq as u64) as usize;
        let n = (size * 8 / bits_per_irq) as usize;
        (0..n)
            .map(move |k| (first + k, k as u32 * bits_per_irq))
            .filter(|&(id, _)| id < NUM_IRQS)
    }

    pub fn dist_read(&self, cpu: usize, offset: u64, size: u32) -> u64 {
        let cpu = cpu.min(self.ncpus - 1);
        let s = self.lock();
        let bitreg = |base: u64, f: &dyn Fn(&Irq) -> bool| -> u64 {
            Self::ids(offset - base, size, 1)
                .fold(0, |acc, (id, sh)| acc | (f(s.irq(cpu, id)) as u64) << sh)
        };
        match offset {
            gicd::CTLR => s.ctlr as u64,
            gicd::TYPER => ((NUM_IRQS / 32 - 1) | ((self.ncpus - 1) << 5)) as u64,
            gicd::IIDR => GICD_IIDR_VALUE,
            o if (gicd::IGROUPR..gicd::ISENABLER).contains(&o) => {
                bitreg(gicd::IGROUPR, &|i| i.group1)
            }
            o if (gicd::ISENABLER..gicd::ISPENDR).contains(&o) => {
                let base = if o >= gicd::ICENABLER {
                    gicd::ICENABLER
                } else {
                    gicd::ISENABLER
                };
                bitreg(base, &|i| i.enabled)
            }
            o if (gicd::ISPENDR..gicd::ISACTIVER).contains(&o) => {
                let base = if o >= gicd::ICPENDR {
                    gicd::ICPENDR
                } else {
                    gicd::ISPENDR
                };
                bitreg(base, &|i| i.is_pending())
            }
            o if (gicd::ISACTIVER..gicd::IPRIORITYR).contains(&o) => {
                let base = if o >= gicd::ICACTIVER {
                    gicd::ICACTIVER
                } else {
                    gicd::ISACTIVER
                };
                bitreg(base, &|i| i.active)
            }
            o if (gicd::IPRIORITYR..gicd::IPRIORITYR + NUM_IRQS as u64).contains(&o) => {
                Self::ids(o - gicd::IPRIORITYR, size, 8).fold(0, |acc, (id, sh)| {
                    acc | (s.irq(cpu, id).priority as u64) << sh
                })
            }
            o if (gicd::ITARGETSR..gicd::ITARGETSR + NUM_IRQS as u64).contains(&o) => {
                Self::ids(o - gicd::ITARGETSR, size, 8).fold(0, |acc, (id, sh)| {
                    let t = if self.ncpus == 1 {
                        0
                    } else if id < 32 {
                        1u64 << cpu
                    } else {
                        s.spis[id - 32].targets as u64
                    };
                    acc | t << sh
                })
            }
            o if (gicd::ICFGR..gicd::ICFGR + NUM_IRQS as u64 / 4).contains(&o) => {
                Self::ids(o - gicd::ICFGR, size, 2).fold(0, |acc, (id, sh)| {
                    acc | ((s.irq(cpu, id).edge as u64) << 1) << sh
                })
            }
            o if (gicd::CPENDSGIR..gicd::CPENDSGIR + 32).contains(&o) => {
                let first = ((o - gicd::CPENDSGIR) & 0xf) as usize;
                (0..size as usize)
                    .filter(|k| first + k < 16)
                    .fold(0, |acc, k| {
                        acc | (s.sgi_sources[cpu][first + k] as u64) << (8 * k)
                    })
            }
            gicd::PIDR2 => 0x2b,
            _ => 0,
        }
    }

    pub fn dist_write(&self, cpu: usize, offset: u64, size: u32, value: u64) {
        let cpu = cpu.min(self.ncpus - 1);
        let mut s = self.lock();
        let mut bits = |base: u64, f: &dyn Fn(&mut Irq, &mut [u8; 16], usize)| {
            for (id, sh) in Self::ids(offset - base, size, 1) {
                if value >> sh & 1 != 0 {
                    let mut sources = s.sgi_sources[cpu];
                    f(s.irq_mut(cpu, id), &mut sources, id);
                    s.sgi_sources[cpu] = sources;
                }
            }
        };
        match offset {
            gicd::CTLR => s.ctlr = (value & 1) as u32,
            o if (gicd::IGROUPR..gicd::ISENABLER).contains(&o) => {
                for (id, sh) in Self::ids(o - gicd::IGROUPR, size, 1) {
                    s.irq_mut(cpu, id).group1 = value >> sh & 1 != 0;
                }
            }
            o if (gicd::ISENABLER..gicd::ICENABLER).contains(&o) => {
                bits(gicd::ISENABLER, &|i, _, _| i.enabled = true)
            }
            o if (gicd::ICENABLER..gicd::ISPENDR).contains(&o) => {
                bits(gicd::ICENABLER, &|i, _, id| {
                    // SGIs cannot be disabled in GICv2.
                    if id >= 16 {
                        i.enabled = false
                    }
                })
            }
            o if (gicd::ISPENDR..gicd::ICPENDR).contains(&o) => bits(gicd::ISPENDR, &|i, _, id| {
                if id >= 16 {
                    i.pending = true
                }
            }),
            o if (gicd::ICPENDR..gicd::ISACTIVER).contains(&o) => {
                bits(gicd::ICPENDR, &|i, src, id| {
                    i.pending = false;
                    if id < 16 {
                        src[id] = 0;
                    }
                })
            }
            o if (gicd::ISACTIVER..gicd::ICACTIVER).contains(&o) => {
                bits(gicd::ISACTIVER, &|i, _, _| i.active = true)
            }
            o if (gicd::ICACTIVER..gicd::IPRIORITYR).contains(&o) => {
                bits(gicd::ICACTIVER, &|i, _, _| i.active = false)
            }
            o if (gicd::IPRIORITYR..gicd::IPRIORITYR + NUM_IRQS as u64).contains(&o) => {
                for (id, sh) in Self::ids(o - gicd::IPRIORITYR, size, 8) {
                    s.irq_mut(cpu, id).priority = (value >> sh) as u8;
                }
            }
            o if (gicd::ITARGETSR..gicd::ITARGETSR + NUM_IRQS as u64).contains(&o) => {
                let valid = ((1u16 << self.ncpus) - 1) as u8;
                for (id, sh) in Self::ids(o - gicd::ITARGETSR, size, 8) {
                    if id >= 32 {
                        s.spis[id - 32].targets = (value >> sh) as u8 & valid;
                    }
                }
            }
            o if (gicd::ICFGR..gicd::ICFGR + NUM_IRQS as u64 / 4).contains(&o) => {
                for (id, sh) in Self::ids(o - gicd::ICFGR, size, 2) {
                    // SGIs are always edge; PPI configuration is fixed by QEMU's GIC too
                    // for the timer, but Linux writes it: honour it for PPIs and SPIs.
                    if id >= 16 {
                        s.irq_mut(cpu, id).edge = value >> (sh + 1) & 1 != 0;
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
                        s.banked[t][id].pending = true;
                    }
                }
            }
            o if (gicd::CPENDSGIR..gicd::SPENDSGIR + 16).contains(&o) => {
                let set = o >= gicd::SPENDSGIR;
                let first = ((o - gicd::CPENDSGIR) & 0xf) as usize;
                for k in 0..size as usize {
                    let id = first + k;
                    if id >= 16 {
                        break;
                    }
                    let m = (value >> (8 * k)) as u8;
                    if set {
                        s.sgi_sources[cpu][id] |= m;
                    } else {
                        s.sgi_sources[cpu][id] &= !m;
                    }
                    s.banked[cpu][id].pending = s.sgi_sources[cpu][id] != 0;
                }
            }
            _ => {}
        }
        self.update(&mut s);
    }

    pub fn cpu_read(&self, cpu: usize, offset: u64, _size: u32) -> u64 {
        let cpu = cpu.min(self.ncpus - 1);
        let mut s = self.lock();
        let v = match offset {
            gicc::CTLR => s.cpus[cpu].ctlr as u64,
            gicc::PMR => s.cpus[cpu].pmr as u64,
            gicc::BPR => s.cpus[cpu].bpr as u64,
            gicc::IAR => self.acknowledge(&mut s, cpu) as u64,
            gicc::RPR => s.running_priority(cpu) as u64,
            gicc::HPPIR => s.hppi(cpu).map_or(SPURIOUS, |(id, _)| id) as u64,
            gicc::IIDR => GICC_IIDR_VALUE,
            _ => 0,
        };
        self.update(&mut s);
        v
    }

    fn acknowledge(&self, s: &mut State, cpu: usize) -> u32 {
        if !s.signal(cpu) {
            return SPURIOUS;
        }
        let Some((id, prio)) = s.hppi(cpu) else {
            return SPURIOUS;
        };
        let mut ret = id;
        if id < 16 {
            // Lowest-numbered requesting CPU first; its ID goes in bits 12:10.
            let src = s.sgi_sources[cpu][id as usize].trailing_zeros();
            s.sgi_sources[cpu][id as usize] &= !(1 << src);
            s.banked[cpu][id as usize].pending = s.sgi_sources[cpu][id as usize] != 0;
            ret |= src << 10;
        } else {
            s.irq_mut(cpu, id as usize).pending = false;
        }
        s.irq_mut(cpu, id as usize).active = true;
        s.cpus[cpu].running.push((id, prio));
        ret
    }

    fn deactivate(s: &mut State, cpu: usize, id: usize) {
        if id < NUM_IRQS {
            s.irq_mut(cpu, id).active = false;
        }
    }

    pub fn cpu_write(&self, cpu: usize, offset: u64, _size: u32, value: u64) {
        let cpu = cpu.min(self.ncpus - 1);
        let mut s = self.lock();
        match offset {
            gicc::CTLR => s.cpus[cpu].ctlr = (value as u32) & (1 | CTLR_EOIMODE),
            gicc::PMR => s.cpus[cpu].pmr = value as u8,
            gicc::BPR => s.cpus[cpu].bpr = (value & 7) as u8,
            gicc::EOIR => {
                let id = (value & 0x3ff) as u32;
                // Priority drop: the most recent acknowledgement of this ID.
                if let Some(pos) = s.cpus[cpu].running.iter().rposition(|&(i, _)| i == id) {
                    s.cpus[cpu].running.remove(pos);
                    if s.cpus[cpu].ctlr & CTLR_EOIMODE == 0 {
                        Self::deactivate(&mut s, cpu, id as usize);
                    }
                }
            }
            gicc::DIR => Self::deactivate(&mut s, cpu, (value & 0x3ff) as usize),
            _ => {}
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
}
