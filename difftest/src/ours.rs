//! Our side: the same sequence through our real front end (decode → translate), the
//! optimiser and one back end, in-process, at the same virtual addresses as the harness.

use crate::gen::Case;
use crate::layout::{fill_scratch, HVC0, SCRATCH, SCRATCH_SIZE, SEQ};
use crate::State;
use arm_cpu::state::CpuEnv;
use arm_cpu::translate::{translate_block, TbFlags};
use softmmu::{MemCtx, PhysAddr, PhysMap};
use std::sync::Arc;
use tcg_ir::{Backend, ExitCode};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    Jit,
    Interp,
    /// The JIT's quick code generator.
    Quick,
}

impl BackendKind {
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Jit => "jit",
            BackendKind::Interp => "interp",
            BackendKind::Quick => "quick",
        }
    }
}

/// A one-vCPU machine with the code page and the scratch page mapped; nothing else, so
/// any access outside the scratch block is a fault.
pub struct OurSide {
    kind: BackendKind,
    backend: Box<dyn Backend>,
    // `env` points at `ctx`: declared first, dropped first.
    env: Box<CpuEnv>,
    _ctx: Box<MemCtx>,
    phys: Arc<PhysMap>,
    runs: u64,
    scratch: Vec<u8>,
}

impl OurSide {
    pub fn new(kind: BackendKind) -> Result<OurSide, String> {
        let backend: Box<dyn Backend> = match kind {
            BackendKind::Interp => Box::new(backend_interp::Interp::new()),
            BackendKind::Jit => Box::new(
                backend_cranelift::CraneliftBackend::new()
                    .map_err(|e| format!("cranelift backend: {e:?}"))?,
            ),
            BackendKind::Quick => Box::new(
                backend_cranelift::CraneliftBackend::with_options(backend_cranelift::JitOptions {
                    quick: true,
                    ..Default::default()
                })
                .map_err(|e| format!("quick backend: {e:?}"))?,
            ),
        };
        let mut m = PhysMap::new();
        m.add_ram("difftest-code", PhysAddr(SEQ), 4096)
            .map_err(|e| format!("{e:?}"))?;
        m.add_ram("difftest-scratch", PhysAddr(SCRATCH), SCRATCH_SIZE)
            .map_err(|e| format!("{e:?}"))?;
        let phys = Arc::new(m);
        let ctx = Box::new(MemCtx {
            phys: phys.clone(),
            walker: Box::new(softmmu::tlb::IdentityWalker),
        });
        let env = Box::new(CpuEnv::new(&*ctx));
        Ok(OurSide {
            kind,
            backend,
            env,
            _ctx: ctx,
            phys,
            runs: 0,
            scratch: vec![0; SCRATCH_SIZE as usize],
        })
    }

    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// Runs one case at EL0 from its initial state; an error is a guest exit other than
    /// reaching the end of the sequence (fault, UNDEF, ...).
    pub fn run(&mut self, case: &Case) -> Result<State, String> {
        self.runs += 1;
        if self.runs.is_multiple_of(512) {
            // No compiled TB is alive between runs: let the JIT drop its code.
            self.backend.reset();
        }
        let bytes: Vec<u8> = case
            .words
            .iter()
            .chain([HVC0].iter())
            .flat_map(|w| w.to_le_bytes())
            .collect();
        self.phys
            .write_bytes(PhysAddr(SEQ), &bytes)
            .map_err(|e| format!("{e:?}"))?;
        fill_scratch(case.scratch_seed, &mut self.scratch);
        self.phys
            .write_bytes(PhysAddr(SCRATCH), &self.scratch)
            .map_err(|e| format!("{e:?}"))?;

        let env = &mut *self.env;
        env.x = case.x;
        env.sp = case.sp;
        env.pc = SEQ;
        env.set_nzcv(case.nzcv);
        env.fp.v = case.v;
        env.fp.fpcr = case.fpcr;
        env.fp.fpsr = case.fpsr;
        env.excl_addr = u64::MAX;
        env.el = 0;
        env.head.clear_fault();
        let end = SEQ + 4 * (case.words.len() as u64 + 1);
        let flags = TbFlags::at_el(0);
        for _ in 0..64 {
            let pc = env.pc;
            let Some(page) = self.phys.ram_ptr(PhysAddr(pc & !0xfff), 4096) else {
                return Err(format!("pc {pc:#x} left the sequence"));
            };
            // SAFETY: `page` is the host view of the 4 KiB RAM page holding `pc`.
            let (mut f, _, _) = unsafe { translate_block(page, pc, flags) };
            tcg_opt::optimize(&mut f);
            let tb = self
                .backend
                .compile(&f)
                .map_err(|e| format!("compile failed at {pc:#x}: {e:?}"))?;
            let envp: *mut CpuEnv = env;
            // SAFETY: `env` is a live CpuEnv (layout the translator targets) used only by
            // this thread during the call; its MemCtx outlives it.
            let code = unsafe { tb.exec(envp as *mut u8) };
            // The final `hvc #0`: an HVC exit after it, or, at EL0 where HVC is
            // UNDEFINED, an UNDEF exit at it.
            let finished = (code == arm_cpu::exits::HVC && env.pc == end)
                || (code == arm_cpu::exits::UNDEF
                    && env.pc == end - 4
                    && env.exit_info == HVC0 as u64);
            match code {
                _ if finished => {
                    return Ok(State {
                        x: env.x,
                        sp: env.sp,
                        nzcv: env.nzcv(),
                        v: env.fp.v,
                        fpcr: env.fp.fpcr,
                        fpsr: env.fp.fpsr,
                        scratch: {
                            let mut s = vec![0; SCRATCH_SIZE as usize];
                            self.phys
                                .read_bytes(PhysAddr(SCRATCH), &mut s)
                                .map_err(|e| format!("{e:?}"))?;
                            s
                        },
                    })
                }
                ExitCode::FAULT => {
                    return Err(format!(
                        "memory fault at pc {:#x}, address {:#x}",
                        env.head.fault_pc, env.head.fault_addr
                    ))
                }
                arm_cpu::exits::UNDEF => {
                    return Err(format!(
                        "UNDEF exit (not implemented) at pc {:#x}, word {:08x}",
                        env.pc, env.exit_info
                    ))
                }
                c if c >= ExitCode::FIRST_GUEST => {
                    return Err(format!(
                        "unexpected guest exit {c} at pc {:#x} (info {:#x})",
                        env.pc, env.exit_info
                    ))
                }
                _ => {}
            }
        }
        Err("did not reach the end of the sequence in 64 blocks".into())
    }
}
