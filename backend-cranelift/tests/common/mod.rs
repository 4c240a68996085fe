//! A small test machine shared by the differential tests: an env with 32 u64 global
//! slots after the `EnvHead`, 64 KiB of RAM at 0x4000_0000, a logging MMIO device at
//! 0x0900_0000, and helpers; runs one compiled TB and captures everything it can change.
#![allow(dead_code)]

use softmmu::tlb::IdentityWalker;
use softmmu::{EnvHead, MemCtx, MmioDevice, PhysAddr, PhysMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use tcg_ir::{Backend, CompiledTb, Func, Helper, HelperFlags};

pub const RAM_BASE: u64 = 0x4000_0000;
pub const RAM_SIZE: u64 = 0x1_0000;
pub const MMIO_BASE: u64 = 0x0900_0000;
pub const MMIO_SIZE: u64 = 0x1000;
pub const NREGS: usize = 32;

#[repr(C)]
pub struct TestEnv {
    pub head: EnvHead,
    pub regs: [u64; NREGS],
}

/// Offset of global slot `i` from env.
pub fn reg_off(i: usize) -> usize {
    std::mem::offset_of!(TestEnv, regs) + 8 * i
}

/// Declarations: x0..x15 are i64 globals in slots 0..15, w16..w31 are i32 globals in slots
/// 16..31 (low half of the slot).
pub fn prelude() -> String {
    let mut s = String::new();
    for i in 0..16 {
        s += &format!("global x{i}:i64 @{:#x}\n", reg_off(i));
    }
    for i in 16..32 {
        s += &format!("global w{i}:i32 @{:#x}\n", reg_off(i));
    }
    s
}

/// Logs every access; reads return a value derived from the offset and the last write.
#[derive(Default)]
pub struct TestDev {
    pub log: Mutex<Vec<(bool, u64, u32, u64)>>,
    last: Mutex<u64>,
}

impl MmioDevice for TestDev {
    fn read(&self, offset: u64, size: u32) -> u64 {
        let last = *self.last.lock().unwrap();
        let mask = if size == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * size)) - 1
        };
        let v = (0x8877_6655_4433_2211u64.rotate_left(offset as u32 * 8) ^ last) & mask;
        self.log.lock().unwrap().push((false, offset, size, v));
        v
    }
    fn write(&self, offset: u64, size: u32, value: u64) {
        *self.last.lock().unwrap() = value;
        self.log.lock().unwrap().push((true, offset, size, value));
    }
}

#[derive(Clone, Debug)]
pub struct Init {
    pub regs: [u64; NREGS],
    pub exit_request: bool,
    pub ram_seed: u8,
}

impl Init {
    pub fn new(regs: &[(usize, u64)]) -> Init {
        let mut r = [0u64; NREGS];
        for (i, slot) in r.iter_mut().enumerate() {
            *slot = 0x0101_0101_0101_0101u64.wrapping_mul(i as u64 + 1) ^ 0xa5a5_0000_5a5a_0000;
        }
        for &(i, v) in regs {
            r[i] = v;
        }
        Init {
            regs: r,
            exit_request: false,
            ram_seed: 3,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub exit: u64,
    pub regs: [u64; NREGS],
    pub fault: u32,
    pub fault_pc: u64,
    pub fault_addr: u64,
    pub fault_access: u32,
    pub ram: Vec<u8>,
    pub mmio: Vec<(bool, u64, u32, u64)>,
}

pub fn run(tb: &dyn CompiledTb, init: &Init) -> Outcome {
    let dev = Arc::new(TestDev::default());
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(RAM_BASE), RAM_SIZE).unwrap();
    m.add_mmio("dev", PhysAddr(MMIO_BASE), MMIO_SIZE, dev.clone())
        .unwrap();
    let pattern: Vec<u8> = (0..RAM_SIZE as usize)
        .map(|i| (i as u8).wrapping_mul(7).wrapping_add(init.ram_seed) ^ (i >> 8) as u8)
        .collect();
    m.write_bytes(PhysAddr(RAM_BASE), &pattern).unwrap();
    let phys = Arc::new(m);
    let ctx = Box::new(MemCtx {
        phys: phys.clone(),
        walker: Box::new(IdentityWalker),
    });
    let mut env = Box::new(TestEnv {
        head: EnvHead::new(&*ctx),
        regs: init.regs,
    });
    if init.exit_request {
        env.head.exit_request.store(1, Ordering::SeqCst);
    }
    // SAFETY: env is a TestEnv starting with an EnvHead whose ctx outlives the call.
    let exit = unsafe { tb.exec(&mut *env as *mut TestEnv as *mut u8) };
    let mut ram = vec![0u8; RAM_SIZE as usize];
    phys.read_bytes(PhysAddr(RAM_BASE), &mut ram).unwrap();
    let mmio = dev.log.lock().unwrap().clone();
    Outcome {
        exit,
        regs: env.regs,
        fault: env.head.fault,
        fault_pc: env.head.fault_pc,
        fault_addr: env.head.fault_addr,
        fault_access: env.head.fault_access,
        ram,
        mmio,
    }
}

// ---- helpers callable from IR ----

extern "C" fn h_mix(_env: *mut u8, a: u64, b: u64) -> u64 {
    a.rotate_left(7) ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

extern "C" fn h_sum6(_env: *mut u8, a: u64, b: u64, c: u64, d: u64, e: u64, f: u64) -> u64 {
    a.wrapping_add(b.wrapping_mul(2))
        .wrapping_add(c.wrapping_mul(3))
        .wrapping_add(d.wrapping_mul(5))
        .wrapping_add(e.wrapping_mul(7))
        .wrapping_add(f.wrapping_mul(11))
}

/// Reads global slots 0 and 16 (reads globals).
extern "C" fn h_read_globals(env: *mut u8, a: u64) -> u64 {
    // SAFETY: env is a TestEnv.
    let e = unsafe { &*(env as *const TestEnv) };
    e.regs[0]
        .wrapping_add(e.regs[16] & 0xffff_ffff)
        .wrapping_add(a)
}

/// Writes global slots 1 and 17 (writes globals); no result.
extern "C" fn h_write_globals(env: *mut u8, a: u64) -> u64 {
    // SAFETY: env is a TestEnv.
    let e = unsafe { &mut *(env as *mut TestEnv) };
    e.regs[1] = a.wrapping_mul(3);
    e.regs[17] = (e.regs[17] & !0xffff_ffff) | (a.wrapping_add(1) & 0xffff_ffff);
    0xdead
}

extern "C" fn h_const(_env: *mut u8) -> u64 {
    0x1234_5678_9abc_def0
}

pub fn helpers() -> &'static [&'static Helper] {
    static H: OnceLock<Vec<&'static Helper>> = OnceLock::new();
    H.get_or_init(|| {
        let mk = |name: &'static str,
                  addr: usize,
                  nargs: u8,
                  has_ret: bool,
                  flags: HelperFlags|
         -> &'static Helper {
            Box::leak(Box::new(Helper {
                name,
                addr,
                nargs,
                has_ret,
                flags,
            }))
        };
        let pure = HelperFlags::NO_READ_GLOBALS
            | HelperFlags::NO_WRITE_GLOBALS
            | HelperFlags::NO_SIDE_EFFECTS;
        vec![
            mk("mix", h_mix as *const () as usize, 2, true, pure),
            mk("sum6", h_sum6 as *const () as usize, 6, true, pure),
            mk(
                "read_globals",
                h_read_globals as *const () as usize,
                1,
                true,
                HelperFlags::NO_WRITE_GLOBALS,
            ),
            mk(
                "write_globals",
                h_write_globals as *const () as usize,
                1,
                true,
                HelperFlags::NO_READ_GLOBALS,
            ),
            mk(
                "write_globals_noret",
                h_write_globals as *const () as usize,
                1,
                false,
                HelperFlags::empty(),
            ),
            mk("konst", h_const as *const () as usize, 0, true, pure),
        ]
    })
}

pub fn parse(body: &str) -> Func {
    let text = format!("{}{}", prelude(), body);
    tcg_ir::text::parse(&text, helpers()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

pub struct Pair {
    pub jit: backend_cranelift::CraneliftBackend,
    pub interp: backend_interp::Interp,
    /// The JIT's quick code generator.
    pub quick: backend_cranelift::CraneliftBackend,
}

pub fn backends() -> &'static Pair {
    static P: OnceLock<Pair> = OnceLock::new();
    P.get_or_init(|| Pair {
        jit: backend_cranelift::CraneliftBackend::new().expect("host JIT"),
        interp: backend_interp::Interp::new(),
        quick: backend_cranelift::CraneliftBackend::with_options(backend_cranelift::JitOptions {
            quick: true,
            ..Default::default()
        })
        .expect("host JIT"),
    })
}

/// Compiles `func` on every back end (Cranelift, interpreter, quick), runs every init on
/// each and demands identical outcomes. Returns the JIT outcomes.
pub fn check_func(name: &str, func: &Func, inits: &[Init]) -> Vec<Outcome> {
    let p = backends();
    let jt = p
        .jit
        .compile(func)
        .unwrap_or_else(|e| panic!("{name}: jit compile: {e}\n{func}"));
    let it = p
        .interp
        .compile(func)
        .unwrap_or_else(|e| panic!("{name}: interp compile: {e}\n{func}"));
    let qt = p
        .quick
        .compile(func)
        .unwrap_or_else(|e| panic!("{name}: quick compile: {e}\n{func}"));
    let mut outs = Vec::new();
    for init in inits {
        let a = run(&*jt, init);
        let b = run(&*it, init);
        let q = run(&*qt, init);
        if q != b {
            panic!(
                "{name}: quick and interp disagree\ninit regs {:x?}\nexit quick {} interp {}\n\
                 regs quick {:x?}\nregs interp {:x?}\nfault quick ({}, {:#x}, {:#x}) interp ({}, {:#x}, {:#x})\n\
                 ram equal {}\n{func}",
                init.regs,
                q.exit,
                b.exit,
                q.regs,
                b.regs,
                q.fault,
                q.fault_pc,
                q.fault_addr,
                b.fault,
                b.fault_pc,
                b.fault_addr,
                q.ram == b.ram,
            );
        }
        if a != b {
            let diff_regs: Vec<_> = (0..NREGS)
                .filter(|&i| a.regs[i] != b.regs[i])
                .map(|i| format!("slot{i}: jit {:#x} interp {:#x}", a.regs[i], b.regs[i]))
                .collect();
            panic!(
                "{name}: back ends disagree\ninit regs {:x?}\nexit jit {} interp {}\nregs {diff_regs:?}\n\
                 fault jit ({}, {:#x}, {:#x}) interp ({}, {:#x}, {:#x})\nram equal {}\nmmio jit {:x?}\nmmio interp {:x?}\n{func}",
                init.regs,
                a.exit,
                b.exit,
                a.fault,
                a.fault_pc,
                a.fault_addr,
                b.fault,
                b.fault_pc,
                b.fault_addr,
                a.ram == b.ram,
                a.mmio,
                b.mmio
            );
        }
        outs.push(a);
    }
    outs
}

pub fn check(name: &str, body: &str, inits: &[Init]) -> Vec<Outcome> {
    check_func(name, &parse(body), inits)
}
