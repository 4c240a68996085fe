//! The fuzz targets as plain functions of the input bytes: `fuzz_targets/*.rs` hand them
//! to libFuzzer, and `cargo test` here replays the seed corpora and the regression inputs
//! through them. A panic is a finding (the host must never panic on guest input or on a
//! file); an `assert!` states what else must hold (JIT and interpreter agree, printing
//! and parsing round-trip).

use arm_cpu::state::CpuEnv;
use arm_cpu::translate::{translate_block, TbFlags};
use softmmu::{MemCtx, MmioDevice, PhysAddr, PhysMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tcg_ir::{Backend, ExitCode, Func};

/// Little-endian words of `data`, at most `max`.
fn words(data: &[u8], max: usize) -> Vec<u32> {
    data.chunks_exact(4)
        .take(max)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .collect()
}

/// A byte reader that yields zeros once the input runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        self.u32() as u64 | (self.u32() as u64) << 32
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

// ---------------------------------------------------------------------------------------
// decode: the decoder and disassembler on random words.

/// Every word decodes (deterministically) and disassembles, at any pc.
pub fn decode(data: &[u8]) {
    for (i, w) in words(data, 1024).into_iter().enumerate() {
        let insn = arm_decode::decode(w);
        assert_eq!(
            arm_decode::decode(w),
            insn,
            "decoding {w:#010x} is deterministic"
        );
        let pc = 0xffff_ffff_ffff_f000u64.wrapping_add(4 * i as u64);
        let text = insn.display_at(pc).to_string();
        assert!(!text.is_empty(), "{w:#010x} disassembles to nothing");
    }
}

// ---------------------------------------------------------------------------------------
// translate: front end + optimiser + back ends.

const CODE: u64 = 0x4000_0000;
const DATA: u64 = 0x4001_0000;
const DATA_SIZE: u64 = 0x1_0000;
/// Most TBs run per input (the code may branch backwards).
const MAX_TBS: usize = 16;

/// Helpers whose results depend on the host's time or interrupt state: a TB calling one
/// can differ between two runs.
const NONDETERMINISTIC: &[&str] = &["read_counter", "read_timer", "read_isr", "check_irq"];

/// One machine: code page, data block, identity-mapped, nothing else.
struct Machine {
    env: Box<CpuEnv>,
    _ctx: Box<MemCtx>,
    phys: Arc<PhysMap>,
}

impl Machine {
    fn new(code: &[u8], seed: &mut Bytes<'_>, el: u8) -> Machine {
        let mut m = PhysMap::new();
        // Fixed, non-overlapping regions of a fresh map: cannot fail.
        let _ = m.add_ram("code", PhysAddr(CODE), 4096);
        let _ = m.add_ram("data", PhysAddr(DATA), DATA_SIZE);
        let _ = m.write_bytes(PhysAddr(CODE), code);
        let pattern: Vec<u8> = (0..DATA_SIZE).map(|i| (i * 37 + 11) as u8).collect();
        let _ = m.write_bytes(PhysAddr(DATA), &pattern);
        let phys = Arc::new(m);
        let ctx = Box::new(MemCtx {
            phys: phys.clone(),
            walker: Box::new(softmmu::tlb::IdentityWalker),
        });
        let mut env = Box::new(CpuEnv::new(&*ctx));
        for x in env.x.iter_mut() {
            // Mostly addresses in the data block, so loads and stores hit RAM.
            let v = seed.u16() as u64;
            *x = if v & 3 == 0 {
                seed.u64()
            } else {
                DATA + (v & 0xfff8)
            };
        }
        env.sp = DATA + 0x8000;
        env.pc = CODE;
        let nzcv = seed.u8() as u64;
        env.set_nzcv((nzcv & 0xf) << 28);
        for (i, v) in env.fp.v.iter_mut().enumerate() {
            *v = [seed.u64() ^ i as u64, seed.u64()];
        }
        env.el = el as u64;
        Machine {
            env,
            _ctx: ctx,
            phys,
        }
    }

    /// Runs up to [`MAX_TBS`] TBs on `be`; returns the exit values and whether a TB
    /// called a nondeterministic helper.
    fn run(&mut self, be: &dyn Backend) -> (Vec<u64>, bool) {
        let mut exits = Vec::new();
        let mut nondet = false;
        for _ in 0..MAX_TBS {
            let pc = self.env.pc;
            if pc & !0xfff != CODE || pc & 3 != 0 {
                break;
            }
            let Some(page) = self.phys.ram_ptr(PhysAddr(CODE), 4096) else {
                break;
            };
            let flags = TbFlags::from_env(&self.env);
            // SAFETY: `page` is the host view of the 4 KiB RAM page holding `pc`.
            let (mut f, _, _) = unsafe { translate_block(page, pc, flags) };
            round_trip(&f);
            tcg_opt::optimize(&mut f);
            round_trip(&f);
            nondet |= f.helpers.iter().any(|h| NONDETERMINISTIC.contains(&h.name));
            let tb = match be.compile(&f) {
                Ok(tb) => tb,
                Err(e) => panic!("{} cannot compile a TB at {pc:#x}: {e}\n{f}", be.name()),
            };
            self.env.head.clear_fault();
            let envp: *mut CpuEnv = &mut *self.env;
            // SAFETY: a live CpuEnv (the layout the translator targets) whose MemCtx
            // outlives it, used by this thread only.
            let code = unsafe { tb.exec(envp as *mut u8) };
            exits.push(code);
            if code == ExitCode::FAULT || code >= ExitCode::FIRST_GUEST {
                break;
            }
        }
        (exits, nondet)
    }

    /// The architectural state and memory, for comparison.
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    fn state(&self) -> (Vec<u64>, Vec<u8>) {
        let e = &*self.env;
        let mut s = Vec::new();
        s.extend_from_slice(&e.x);
        s.extend_from_slice(&[e.sp, e.pc, e.nzcv(), e.el, e.daif, e.spsel]);
        s.extend_from_slice(&e.sp_el);
        s.extend_from_slice(&[e.excl_addr, e.excl_val, e.excl_val2, e.exit_info]);
        s.extend_from_slice(&e.sysregs);
        for v in &e.fp.v {
            s.extend_from_slice(v);
        }
        s.extend_from_slice(&[e.fp.fpcr, e.fp.fpsr]);
        let h = &e.head;
        s.extend_from_slice(&[h.fault as u64, h.fault_pc, h.fault_addr, h.fault_info]);
        let mut mem = vec![0u8; 4096 + DATA_SIZE as usize];
        let _ = self.phys.read_bytes(PhysAddr(CODE), &mut mem[..4096]);
        let _ = self.phys.read_bytes(PhysAddr(DATA), &mut mem[4096..]);
        (s, mem)
    }
}

/// The IR prints and parses back to the same text.
fn round_trip(f: &Func) {
    let text = f.to_string();
    let helpers = arm_cpu::helpers::all();
    match tcg_ir::text::parse(&text, &helpers) {
        Ok(g) => assert_eq!(g.to_string(), text, "IR text does not round-trip"),
        Err(e) => panic!("printed IR does not parse: {e}\n{text}"),
    }
}

/// The back ends the translate target compares.
struct Backends {
    interp: backend_interp::Interp,
    #[cfg(feature = "jit")]
    jit: backend_cranelift::CraneliftBackend,
    #[cfg(feature = "jit")]
    quick: backend_cranelift::CraneliftBackend,
    runs: AtomicUsize,
}

fn backends() -> &'static Backends {
    static B: std::sync::OnceLock<Backends> = std::sync::OnceLock::new();
    B.get_or_init(|| Backends {
        interp: backend_interp::Interp::new(),
        #[cfg(feature = "jit")]
        jit: backend_cranelift::CraneliftBackend::new().expect("the JIT starts"),
        #[cfg(feature = "jit")]
        quick: backend_cranelift::CraneliftBackend::with_options(backend_cranelift::JitOptions {
            quick: true,
            ..Default::default()
        })
        .expect("the quick JIT starts"),
        runs: AtomicUsize::new(0),
    })
}

/// Byte 0: bit 0 the exception level, bit 1 quick instead of Cranelift; then up to 32
/// instruction words; the rest seeds the registers. The sequence runs from the same
/// state on the interpreter and (with the `jit` feature) a JIT; they must agree.
pub fn translate(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let el = sel & 1;
    let n = (rest.len() / 4).min(32);
    let code: Vec<u8> = rest[..4 * n].to_vec();
    let b = backends();
    if b.runs.fetch_add(1, Ordering::Relaxed) % 256 == 255 {
        // No compiled TB is alive between inputs: let the back ends drop their code.
        b.interp.reset();
        #[cfg(feature = "jit")]
        {
            b.jit.reset();
            b.quick.reset();
        }
    }
    let mut reference = Machine::new(&code, &mut Bytes(&rest[4 * n..]), el);
    let (ref_exits, nondet) = reference.run(&b.interp);
    #[cfg(feature = "jit")]
    {
        let jit: &dyn Backend = if sel & 2 != 0 { &b.quick } else { &b.jit };
        let mut checked = Machine::new(&code, &mut Bytes(&rest[4 * n..]), el);
        let (exits, _) = checked.run(jit);
        if !nondet {
            let listing: String = words(&code, 32)
                .iter()
                .enumerate()
                .map(|(i, &w)| {
                    let pc = CODE + 4 * i as u64;
                    format!(
                        "  {pc:#x}: {w:08x}  {}\n",
                        arm_decode::decode(w).display_at(pc)
                    )
                })
                .collect();
            assert_eq!(
                ref_exits,
                exits,
                "exits differ (interp, {})\n{listing}",
                jit.name()
            );
            let (rs, rm) = reference.state();
            let (cs, cm) = checked.state();
            if let Some(i) = (0..rs.len()).find(|&i| rs[i] != cs[i]) {
                panic!(
                    "state word {i} differs: interp {:#x}, {} {:#x}\n{listing}",
                    rs[i],
                    jit.name(),
                    cs[i]
                );
            }
            if let Some(i) = (0..rm.len()).find(|&i| rm[i] != cm[i]) {
                panic!(
                    "memory byte {i:#x} differs (interp, {})\n{listing}",
                    jit.name()
                );
            }
        }
    }
    let _ = (ref_exits, nondet);
}

// ---------------------------------------------------------------------------------------
// loaders: ELF, Image, raw, gzip, device tree, boot layout.

const RAM: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 4 << 20;

fn ram() -> Arc<PhysMap> {
    let mut m = PhysMap::new();
    let _ = m.add_ram("ram", PhysAddr(RAM), RAM_SIZE);
    Arc::new(m)
}

/// Byte 0 picks the loader; the rest is the file. Errors are fine, panics are not.
pub fn loaders(data: &[u8]) {
    use machine_virt::{fdt_edit, loader};
    let Some((&sel, file)) = data.split_first() else {
        return;
    };
    let mem = ram();
    match sel % 6 {
        0 => {
            let _ = loader::is_elf(file);
            let _ = loader::load_elf(file, &mem);
        }
        1 => {
            let _ = loader::parse_image_header(file);
            let _ = loader::load_image(file, &mem, RAM, RAM_SIZE);
        }
        2 => {
            let _ = loader::load_raw(file, &mem, RAM, RAM_SIZE);
        }
        3 => {
            let _ = loader::is_gzip(file);
            let _ = loader::gunzip(file, 1 << 20);
        }
        4 => {
            if let Ok(tree) = fdt_edit::parse(file) {
                let blob = tree.to_blob(0);
                match fdt_edit::parse(&blob) {
                    Ok(t2) => assert_eq!(t2.to_blob(0), blob, "a re-encoded tree round-trips"),
                    Err(e) => panic!("our own blob does not parse: {e}"),
                }
            }
        }
        _ => {
            let mut b = Bytes(file);
            let (end, initrd, dtb) = (b.u64(), b.u64(), b.u64());
            if let Ok(l) = loader::boot_layout(RAM, RAM_SIZE, end, initrd, dtb) {
                let _ = l;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// mmio: every device's register window.

/// Byte 0 picks the device; then 8-byte accesses: op (bit 0 write, bits 1-2 log2 size,
/// bits 3-5 the accessing CPU), a 16-bit offset, a 32-bit value.
pub fn mmio(data: &[u8]) {
    use machine_virt::gic::{Gic, GicCpu, GicDist};
    let mut b = Bytes(data);
    let sel = b.u8();
    let cpu = Arc::new(AtomicUsize::new(0));
    let mem = ram();
    let dev: Box<dyn MmioDevice> = match sel % 6 {
        0 => Box::new(machine_virt::pl011::Pl011::new(Box::new(std::io::sink()))),
        1 => Box::new(machine_virt::pl031::Pl031::new()),
        2 | 3 => {
            let gic = Arc::new(Gic::new(1 + (sel as usize >> 4) % 8));
            let c = cpu.clone();
            let current_cpu = Arc::new(move || c.load(Ordering::Relaxed));
            if sel % 6 == 2 {
                Box::new(GicDist { gic, current_cpu })
            } else {
                Box::new(GicCpu { gic, current_cpu })
            }
        }
        n => {
            use virtio_devices::mmio::{Interrupt, VirtioMmio};
            let irq = Arc::new(Interrupt::new(
                "fuzz",
                Box::new(|_| {}),
                virtio_devices::quiet_logger(),
            ));
            let device: Box<dyn virtio_devices::mmio::VirtioDevice> = if n == 4 {
                Box::new(virtio_devices::rng::Rng::new())
            } else {
                Box::new(virtio_devices::console::Console::new(Vec::new()))
            };
            let t = VirtioMmio::new(device, irq);
            t.attach_memory(&mem);
            Box::new(t)
        }
    };
    while !b.is_empty() {
        let op = b.u8();
        let off = b.u16() as u64 & 0xfff;
        let value = b.u32() as u64;
        let size = 1u32 << (op >> 1 & 3);
        cpu.store((op >> 3 & 7) as usize, Ordering::Relaxed);
        if op & 1 != 0 {
            dev.write(off, size, value);
        } else {
            let _ = dev.read(off, size);
        }
    }
}

// ---------------------------------------------------------------------------------------
// virtq: descriptor chains, rings and indirect tables from guest memory.

/// 12 bytes of queue setup (size, ring offsets in 16-byte units, indirect), then RAM
/// contents from the queue area on: the descriptor table, the rings, indirect tables.
pub fn virtq(data: &[u8]) {
    use virtio_devices::queue::Queue;
    let mut b = Bytes(data);
    let mem = ram();
    let mut q = Queue::new(256);
    q.size = b.u16();
    q.desc_table = RAM + 16 * b.u16() as u64;
    q.avail_ring = RAM + 16 * b.u16() as u64;
    q.used_ring = RAM + 16 * b.u16() as u64;
    let flags = b.u16();
    q.indirect = flags & 1 != 0;
    let _ = b.u16();
    let _ = mem.write_bytes(PhysAddr(RAM), b.0);
    q.ready = true;
    if q.validate(&mem).is_err() {
        return;
    }
    for _ in 0..64 {
        match q.pop(&mem) {
            Ok(Some(chain)) => {
                let _ = (chain.readable_len(), chain.writable_len());
                let len = chain.writable_len().min(u32::MAX as u64) as u32;
                if q.add_used(&mem, chain.head, len).is_err() {
                    break;
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    let _ = q.needs_interrupt(&mem);
    for head in [0u16, 1, q.size.wrapping_sub(1), flags] {
        let _ = q.walk(&mem, head);
    }
}

#[cfg(test)]
mod tests;
