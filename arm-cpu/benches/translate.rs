//! Per-instruction costs of the A64 front end and the back ends:
//! - translation: decode + translate (+ optimise, + JIT compile) of a realistic block;
//! - execution: a hot loop of each instruction group, per guest instruction, on the JIT
//!   and the interpreter (the loop's own `subs`/`b.ne` included, dispatch between TBs by a
//!   minimal loop here, not the scheduler).
//!
//! Instruction words come from aarch64-linux-gnu-as.

use arm_cpu::exits;
use arm_cpu::state::CpuEnv;
use arm_cpu::translate::{translate_block, TbFlags};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use softmmu::{MemCtx, PhysAddr, PhysMap};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use tcg_ir::{Backend, CompiledTb, ExitCode};

/// A loop of mixed integer work (18 instructions).
const BLOCK: [u32; 18] = [
    0xf9400422, 0x8b000043, 0xb8404424, 0xca040c65, 0xf10004a6, 0x9a8510c7, 0xf9000827, 0x9b027ce8,
    0x9ac30909, 0xd3443d2a, 0xa9bf2be9, 0xa8c12be9, 0x2b09014b, 0xfa422164, 0xb4000040, 0xd1000400,
    0xf100001f, 0x54fffde1,
];

/// Per group: a loop ending `subs x20, x20, #1; b.ne loop; hvc #0`, and how many of its
/// instructions one iteration executes. Memory operands use x21 (a data buffer) and x22
/// (= 1); all other registers start at 0.
const GROUPS: &[(&str, u64, &[u32])] = &[
    // add, sub, adds (shifted), adc, sub (extended), cmp, csel, csinc, neg, ccmp
    (
        "arith",
        12,
        &[
            0x8b010000, 0xd1000c42, 0xab020803, 0x9a030084, 0x4b2080a5, 0xeb02001f, 0x9a82b006,
            0x9a8004e7, 0xcb0103e8, 0xfa441862, 0xf1000694, 0x54fffea1, 0xd4000002,
        ],
    ),
    // and (imm), orr/eor (shifted), bic, tst, lsl, asr, ubfx, bfi, extr
    (
        "logic_bitfield",
        12,
        &[
            0x92089c00, 0xaa400c21, 0xcac11c42, 0x8a200043, 0xf27c0c7f, 0xd37be824, 0x9349fc45,
            0xd3445c46, 0xb3783c07, 0x93c23428, 0xf1000694, 0x54fffea1, 0xd4000002,
        ],
    ),
    // mul, madd, umulh, smull, udiv, sdiv, lslv, clz, rbit, rev
    (
        "mul_div_bits",
        12,
        &[
            0x9b027c20, 0x9b010c03, 0x9bc37c04, 0x9b237c05, 0x9ac20866, 0x1ac20c87, 0x9ac12008,
            0xdac01009, 0xdac0006a, 0xdac00c8b, 0xf1000694, 0x54fffea1, 0xd4000002,
        ],
    ),
    // ldr, str, ldrb, strh, ldp, stp, ldrsw, ldr (reg), str (pre), ldr (post)
    (
        "load_store",
        12,
        &[
            0xf94002a0, 0xf90006a0, 0x39400ea1, 0x790022a1, 0xa9420ea2, 0xa9030aa3, 0xb98006a4,
            0xf8767aa5, 0xf8040ea5, 0xf85c06a6, 0xf1000694, 0x54fffea1, 0xd4000002,
        ],
    ),
    // ldxr/stxr, ldaxr/stlxr, ldar, stlr, dmb ish
    (
        "exclusive_ordered",
        10,
        &[
            0xc85f7ea0, 0x91000400, 0xc8017ea0, 0x885ffea2, 0x8803fea2, 0xc8dffea4, 0xc89ffea4,
            0xd5033bbf, 0xf1000694, 0x54fffee1, 0xd4000002,
        ],
    ),
    // cbz (taken: x1 = 0), tbnz, b.eq (not taken) around adds: several TBs per iteration
    (
        "branch",
        8,
        &[
            0xb4000041, 0x91000400, 0xb7f80040, 0x91000442, 0xeb02001f, 0x54000040, 0x91000463,
            0xf1000694, 0x54ffff01, 0xd4000002,
        ],
    ),
    // fadd/fmul/fmadd (d), fdiv (s), fsqrt, fcvtzs, scvtf, fcmp, fcsel, fcvt
    (
        "fp_scalar",
        12,
        &[
            0x1e622820, 0x1e640803, 0x1f410865, 0x1e2818e6, 0x1e61c029, 0x9e7800a0, 0x9e6202ca,
            0x1e622020, 0x1e62cc2b, 0x1e62402c, 0xf1000694, 0x54fffea1, 0xd4000002,
        ],
    ),
    // add.4s, mul.8h, cmeq.16b, and, bsl, ushr.4s, smax.4s, dup (general), movi, sub.2d
    (
        "simd_int",
        12,
        &[
            0x4ea28420, 0x4e619c03, 0x6e218c64, 0x4e221c85, 0x6e621c24, 0x6f3d0406, 0x4ea064c7,
            0x4e040ec8, 0x4f02e6a9, 0x6ee1840a, 0xf1000694, 0x54fffea1, 0xd4000002,
        ],
    ),
    // fadd.4s, fmul.2d, fmla.4s, fmaxnm.4s, fcmgt.4s, scvtf.4s, fcvtzs.4s, faddp.4s
    (
        "simd_fp",
        10,
        &[
            0x4e22d420, 0x6e62dc23, 0x4e22cc24, 0x4e20c425, 0x6ea2e426, 0x4e21d8c7, 0x4ea1b828,
            0x6e21d409, 0xf1000694, 0x54fffee1, 0xd4000002,
        ],
    ),
    // ld1/st1 {.4s}, ldr q, stp q, ld2 {.4s}, uzp1, addv, umov, tbl, ext
    (
        "simd_ldst_permute",
        12,
        &[
            0x4c407aa0, 0x4c007aa0, 0x3dc006a1, 0xad0106a0, 0x4c408aa2, 0x4e831844, 0x4eb1b885,
            0x0e043ca0, 0x4e010006, 0x6e011807, 0xf1000694, 0x54fffea1, 0xd4000002,
        ],
    ),
    // aese, aesmc, sha256h, sha256su0, pmull (1q)
    (
        "crypto",
        7,
        &[
            0x4e284820, 0x4e286800, 0x5e044062, 0x5e2828a4, 0x0ee2e026, 0xf1000694, 0x54ffff41,
            0xd4000002,
        ],
    ),
];

const RAM: u64 = 0x4000_0000;
const DATA: u64 = RAM + 0x10_0000;

struct Machine {
    env: Box<CpuEnv>,
    _ctx: Box<MemCtx>,
    phys: Arc<PhysMap>,
    tbs: HashMap<u64, Arc<dyn CompiledTb>>,
}

impl Machine {
    fn new(code: &[u32]) -> Machine {
        let mut m = PhysMap::new();
        m.add_ram("ram", PhysAddr(RAM), 4 << 20).expect("ram");
        let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        m.write_bytes(PhysAddr(RAM), &bytes).expect("code");
        let phys = Arc::new(m);
        let ctx = Box::new(MemCtx {
            phys: phys.clone(),
            walker: Box::new(softmmu::tlb::IdentityWalker),
        });
        let env = Box::new(CpuEnv::new(&*ctx));
        Machine {
            env,
            _ctx: ctx,
            phys,
            tbs: HashMap::new(),
        }
    }

    fn tb(&mut self, be: &dyn Backend, pc: u64) -> Arc<dyn CompiledTb> {
        if let Some(tb) = self.tbs.get(&pc) {
            return tb.clone();
        }
        let page = self
            .phys
            .ram_ptr(PhysAddr(pc & !0xfff), 4096)
            .expect("code page");
        // SAFETY: `page` is the host view of the RAM page holding `pc`.
        let (mut f, _, _) = unsafe { translate_block(page, pc, TbFlags::at_el(1)) };
        tcg_opt::optimize(&mut f);
        let tb = be.compile(&f).expect("compile");
        self.tbs.insert(pc, tb.clone());
        tb
    }

    /// Runs `iters` iterations of the loop at RAM.
    fn run(&mut self, be: &dyn Backend, iters: u64) {
        self.env.x[20] = iters;
        self.env.x[21] = DATA;
        self.env.x[22] = 1;
        self.env.pc = RAM;
        loop {
            let pc = self.env.pc;
            let tb = self.tb(be, pc);
            let env: *mut CpuEnv = &mut *self.env;
            // SAFETY: the env is live and used by this thread only.
            let code = unsafe { tb.exec(env as *mut u8) };
            match code {
                exits::HVC => return,
                ExitCode::FAULT | ExitCode::REQUESTED => panic!("unexpected exit {code}"),
                c if c < ExitCode::FIRST_GUEST || c >> 63 == 1 => continue,
                c => panic!("unexpected exit {c}"),
            }
        }
    }
}

fn backends() -> Vec<(&'static str, Box<dyn Backend>)> {
    vec![
        (
            "jit",
            Box::new(backend_cranelift::CraneliftBackend::new().expect("jit")),
        ),
        (
            "quick",
            Box::new(
                backend_cranelift::CraneliftBackend::with_options(backend_cranelift::JitOptions {
                    quick: true,
                    ..Default::default()
                })
                .expect("quick"),
            ),
        ),
        ("interp", Box::new(backend_interp::Interp::new())),
    ]
}

fn translation(c: &mut Criterion) {
    let mut page = vec![0u8; 4096];
    for (i, w) in BLOCK.iter().enumerate() {
        page[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    let flags = TbFlags::at_el(1);
    let mut g = c.benchmark_group("translate_per_insn");
    g.throughput(Throughput::Elements(BLOCK.len() as u64));
    let front = |p: &[u8]| {
        // SAFETY: `p` is a 4 KiB buffer holding the block at offset 0.
        let (mut f, _, _) = unsafe { translate_block(p.as_ptr(), black_box(RAM), flags) };
        tcg_opt::optimize(&mut f);
        f
    };
    g.bench_function("decode_translate", |b| {
        // SAFETY: as above.
        b.iter(|| unsafe { translate_block(page.as_ptr(), black_box(RAM), flags) })
    });
    g.bench_function("decode_translate_optimize", |b| b.iter(|| front(&page)));
    for (name, be) in backends() {
        g.bench_function(format!("decode_translate_optimize_compile_{name}"), |b| {
            // The fast back ends fill the code buffer within one measurement: start it
            // over then (no compiled TB is alive between iterations).
            b.iter(|| match be.compile(&front(&page)) {
                Err(tcg_ir::BackendError::CodeFull) => {
                    be.reset();
                    be.compile(&front(&page)).expect("compile after a reset")
                }
                r => r.expect("compile"),
            })
        });
    }
    g.finish();
}

fn execution(c: &mut Criterion) {
    const ITERS: u64 = 2000;
    let mut g = c.benchmark_group("exec_per_insn");
    for &(group, per_iter, code) in GROUPS {
        g.throughput(Throughput::Elements(ITERS * per_iter));
        for (name, be) in backends() {
            let mut m = Machine::new(code);
            m.run(&*be, 1); // translate and compile outside the measurement
            g.bench_function(format!("{group}_{name}"), |b| b.iter(|| m.run(&*be, ITERS)));
        }
    }
    g.finish();
}

criterion_group!(benches, translation, execution);
criterion_main!(benches);
