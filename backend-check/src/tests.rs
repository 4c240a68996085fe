use super::*;
use backend_cranelift::{CraneliftBackend, JitOptions};
use softmmu::tlb::IdentityWalker;
use softmmu::{EnvHead, MemCtx, MmioDevice, PhysAddr, PhysMap};
use std::sync::Mutex;

const RAM: u64 = 0x4000_0000;
const DEV: u64 = 0x0900_0000;

#[repr(C)]
struct Env {
    head: EnvHead,
    x: [u64; 16],
}

fn x_off(i: usize) -> usize {
    std::mem::offset_of!(Env, x) + 8 * i
}

/// A device counting the writes it sees.
struct Counter(AtomicU64);
impl MmioDevice for Counter {
    fn read(&self, _o: u64, _s: u32) -> u64 {
        0
    }
    fn write(&self, _o: u64, _s: u32, _v: u64) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

struct Rig {
    _ctx: Box<MemCtx>,
    env: Box<Env>,
    phys: Arc<PhysMap>,
    dev: Arc<Counter>,
    check: Check,
    reports: Arc<Mutex<Vec<Divergence>>>,
}

fn rig(checked: Arc<dyn Backend>) -> Rig {
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(RAM), 0x10_0000).unwrap();
    let dev = Arc::new(Counter(AtomicU64::new(0)));
    m.add_mmio("ctr", PhysAddr(DEV), 0x1000, dev.clone())
        .unwrap();
    let phys = Arc::new(m);
    let ctx = Box::new(MemCtx {
        phys: phys.clone(),
        walker: Box::new(IdentityWalker),
    });
    let env = Box::new(Env {
        head: EnvHead::new(&*ctx),
        x: [0; 16],
    });
    let reports = Arc::new(Mutex::new(Vec::new()));
    let r2 = reports.clone();
    let spec = CheckSpec {
        ranges: std::iter::once(x_off(0)..x_off(16)).collect(),
        scratch: vec![],
        field_name: Box::new(|off| format!("x{}", (off - x_off(0)) / 8)),
        replayable: vec![],
        describe: Box::new(|_, pcs| format!("{} insns\n", pcs.len())),
        on_divergence: Box::new(move |d| r2.lock().unwrap().push(d.clone())),
    };
    Rig {
        _ctx: ctx,
        env,
        phys,
        dev,
        check: Check::new(checked, spec),
        reports,
    }
}

fn globals() -> String {
    (0..16)
        .map(|i| format!("global x{i}:i64 @{:#x}\n", x_off(i)))
        .collect()
}

impl Rig {
    fn run(&mut self, body: &str) -> u64 {
        let src = format!("{}  insn_start 0x40001000\n{body}", globals());
        let f = tcg_ir::text::parse(&src, &[]).unwrap();
        let tb = self.check.compile(&f).unwrap();
        // SAFETY: the env is an EnvHead-headed Env with the globals the IR names, used by
        // this thread only.
        unsafe { tb.exec(&mut *self.env as *mut Env as *mut u8) }
    }

    fn ram_u64(&self, addr: u64) -> u64 {
        let p = self.phys.ram_ptr(PhysAddr(addr), 8).unwrap();
        // SAFETY: 8 bytes of RAM.
        unsafe { (p as *const u64).read_unaligned() }
    }
}

const TB: &str = "  add.i64 x1, x1, $0x7ff1\n  qemu_st.i64 x1, x2, uq, mmu0\n  qemu_ld.i64 x3, x2, uq, mmu0\n  exit_tb 0x10\n";

fn jit(miscompile: Option<u64>) -> Arc<dyn Backend> {
    Arc::new(
        CraneliftBackend::with_options(JitOptions {
            miscompile_add_imm: miscompile,
            ..JitOptions::default()
        })
        .unwrap(),
    )
}

#[test]
fn agreeing_back_ends_run_the_tb_once_and_pass() {
    let mut r = rig(jit(None));
    r.env.x[1] = 5;
    r.env.x[2] = RAM + 0x100;
    assert_eq!(r.run(TB), 0x10);
    assert!(r.reports.lock().unwrap().is_empty());
    assert_eq!(r.env.x[1], 5 + 0x7ff1, "the add happened once, not twice");
    assert_eq!(r.env.x[3], 5 + 0x7ff1);
    assert_eq!(r.ram_u64(RAM + 0x100), 5 + 0x7ff1);
    assert_eq!(r.check.stats().checked.load(Ordering::Relaxed), 1);
}

#[test]
fn an_injected_miscompile_is_reported_with_its_tb() {
    let mut r = rig(jit(Some(0x7ff1)));
    r.env.x[1] = 5;
    r.env.x[2] = RAM + 0x100;
    r.run(TB);
    let reps = r.reports.lock().unwrap();
    assert_eq!(reps.len(), 1);
    let d = &reps[0];
    assert_eq!(d.pc, Some(0x4000_1000));
    assert!(d.report.contains("0x40001000"), "{}", d.report);
    assert!(d.report.contains("add.i64"), "the IR is in the report");
    let want = format!("reference {:#018x}", 5u64 + 0x7ff1);
    assert!(
        d.report
            .lines()
            .any(|l| l.starts_with("x1 ") && l.contains(&want)),
        "{}",
        d.report
    );
    assert!(
        d.report.lines().any(|l| l.starts_with("mem 0x40000100")),
        "the store differs too:\n{}",
        d.report
    );
    assert!(!d.report.lines().any(|l| l.starts_with("x2 ")), "x2 agrees");
}

#[test]
fn the_reference_run_leaves_ram_alone_and_its_loads_see_its_stores() {
    // Interp against interp: the checked run must see RAM as before the reference run.
    let mut r = rig(Arc::new(Interp::new()));
    r.env.x[2] = RAM + 0x200;
    r.env.x[1] = 1;
    let body = "  qemu_st.i64 x1, x2, uq, mmu0\n  add.i64 x1, x1, $0x1\n  qemu_ld.i64 x4, x2, uq, mmu0\n  add.i64 x4, x4, $0x1\n  qemu_st.i64 x4, x2, uq, mmu0\n  exit_tb 0x10\n";
    r.run(body);
    assert!(r.reports.lock().unwrap().is_empty());
    assert_eq!(r.ram_u64(RAM + 0x200), 2);
    assert_eq!(r.env.x[4], 2);
}

#[test]
fn mmio_is_touched_once_and_not_compared() {
    let mut r = rig(jit(None));
    r.env.x[2] = DEV;
    r.run("  qemu_st.i64 x1, x2, uq, mmu0\n  exit_tb 0x10\n");
    assert_eq!(r.dev.0.load(Ordering::SeqCst), 1, "one device write");
    let s = r.check.stats();
    assert_eq!(s.skipped_io.load(Ordering::Relaxed), 1);
    assert_eq!(s.checked.load(Ordering::Relaxed), 0);
}
