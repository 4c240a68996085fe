//! The test harness shared by the instruction tests: a CPU environment with RAM, code
//! run through the whole front end (decode → translate → optimise) and a back end, until
//! a guest exit.

#![allow(dead_code)]

use arm_cpu::state::CpuEnv;
use arm_cpu::translate::{translate_block, TbFlags};
use backend_cranelift::CraneliftBackend;
use backend_interp::Interp;
use softmmu::{MemCtx, PhysAddr, PhysMap};
use std::sync::Arc;
use tcg_ir::{Backend, ExitCode};

pub const RAM: u64 = 0x4000_0000;
/// Data the tests operate on (16-byte aligned).
pub const DATA: u64 = RAM + 0x4000;
/// `hvc #0`: ends every test program.
pub const HVC0: u32 = 0xd400_0002;

pub struct Machine {
    /// The flags blocks are translated under (EL1, no alignment checks by default).
    pub flags: TbFlags,
    pub env: Box<CpuEnv>,
    _ctx: Box<MemCtx>,
    pub phys: Arc<PhysMap>,
}

impl Machine {
    pub fn new(code: &[u32]) -> Machine {
        let mut m = PhysMap::new();
        m.add_ram("ram", PhysAddr(RAM), 1 << 20).unwrap();
        let bytes: Vec<u8> = code
            .iter()
            .chain([HVC0].iter())
            .flat_map(|w| w.to_le_bytes())
            .collect();
        m.write_bytes(PhysAddr(RAM), &bytes).unwrap();
        let phys = Arc::new(m);
        let ctx = Box::new(MemCtx {
            phys: phys.clone(),
            walker: Box::new(softmmu::tlb::IdentityWalker),
        });
        let mut env = Box::new(CpuEnv::new(&*ctx));
        env.pc = RAM;
        env.sp = RAM + 0x8_0000;
        Machine {
            flags: TbFlags::at_el(1),
            env,
            _ctx: ctx,
            phys,
        }
    }

    pub fn put(&self, addr: u64, v: u64) {
        self.phys
            .write_bytes(PhysAddr(addr), &v.to_le_bytes())
            .unwrap();
    }

    pub fn get(&self, addr: u64) -> u64 {
        let mut b = [0u8; 8];
        self.phys.read_bytes(PhysAddr(addr), &mut b).unwrap();
        u64::from_le_bytes(b)
    }

    /// Runs until the final HVC (or any guest exit / fault); returns the exit code.
    pub fn run(&mut self, be: &dyn Backend) -> u64 {
        for _ in 0..10_000 {
            let env: *mut CpuEnv = &mut *self.env;
            let page = self
                .phys
                .ram_ptr(PhysAddr(self.env.pc & !0xfff), 4096)
                .unwrap();
            // SAFETY: `page` is the host view of the RAM page holding the PC.
            let (mut f, _, _) = unsafe { translate_block(page, self.env.pc, self.flags) };
            tcg_opt::optimize(&mut f);
            let tb = be.compile(&f).unwrap();
            // SAFETY: `env` is a live CpuEnv used only by this thread.
            let code = unsafe { tb.exec(env as *mut u8) };
            if !continues(code) {
                return code;
            }
        }
        panic!("did not finish");
    }
}

/// Every back end, so every test checks the interpreter, the JIT and its quick generator.
pub fn backends() -> Vec<Box<dyn Backend>> {
    vec![
        Box::new(Interp::new()),
        Box::new(CraneliftBackend::new().expect("cranelift backend")),
        Box::new(
            CraneliftBackend::with_options(backend_cranelift::JitOptions {
                quick: true,
                ..Default::default()
            })
            .expect("quick backend"),
        ),
    ]
}

/// Runs `code` on every back end: `setup` prepares registers/memory, `check` asserts.
pub fn on_all(code: &[u32], setup: impl Fn(&mut Machine), check: impl Fn(&Machine, &str)) {
    for be in backends() {
        let mut m = Machine::new(code);
        setup(&mut m);
        assert_eq!(m.run(&*be), arm_cpu::exits::HVC, "{}", be.name());
        check(&m, be.name());
    }
}

/// Whether a TB exit means "go on at env.pc" (rather than a guest exit or a fault).
pub fn continues(code: u64) -> bool {
    matches!(
        code,
        ExitCode::GOTO_TB0 | ExitCode::GOTO_TB1 | ExitCode::LOOKUP
    )
}
