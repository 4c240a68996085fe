//! Sanity tests of the generator's rules and of our side (no QEMU needed).

use crate::gen::{classify, unpredictable, Case, Generator, Mem, Off};
use crate::layout::{fill_scratch, SCRATCH, SCRATCH_SIZE, SEQ};
use crate::ours::{BackendKind, OurSide};
use crate::{compare, State};
use arm_decode::{decode, Insn, MoveWideOp, RegKind};

/// Values the setup words right before a tested word leave in registers (index 31 = SP).
fn eval_setup(words: &[u32]) -> [Option<u64>; 32] {
    let mut r = [None; 32];
    for &w in words {
        match decode(w) {
            Insn::MoveWide {
                is64: true,
                op,
                rd,
                imm16,
                shift,
            } => {
                let n = rd.gpr().expect("setup writes a GPR") as usize;
                let v = (imm16 as u64) << shift;
                r[n] = Some(match op {
                    MoveWideOp::Z => v,
                    MoveWideOp::N => !v,
                    MoveWideOp::K => (r[n].unwrap() & !(0xffffu64 << shift)) | v,
                });
            }
            Insn::AddSubImm { rd, rn, imm: 0, .. } if rd.kind() == RegKind::Sp => {
                r[31] = r[rn.gpr().unwrap() as usize];
            }
            i => panic!("unexpected setup word {w:08x} {i}"),
        }
    }
    r
}

fn cases(n: u64) -> Vec<Case> {
    let g = Generator::new();
    (0..n).map(|i| g.case(0xd1ff, i, 16)).collect()
}

#[test]
fn generated_words_follow_the_class_and_address_rules() {
    let mut mem_insns = 0;
    for case in cases(4000) {
        assert_eq!(case.words.len(), case.tested.len());
        let mut setup_start = 0;
        for (i, (&w, &t)) in case.words.iter().zip(&case.tested).enumerate() {
            if !t {
                continue;
            }
            let insn = decode(w);
            let mem = classify(&insn, w).unwrap_or_else(|e| panic!("{w:08x} {insn}: {e}"));
            assert!(!insn.is_branch());
            assert_eq!(unpredictable(&insn), None, "{w:08x} {insn}");
            let regs = eval_setup(&case.words[setup_start..i]);
            let pc = SEQ + 4 * i as u64;
            let (ea, bytes, align) = match mem {
                Mem::None => {
                    assert_eq!(setup_start, i, "setup without a memory access");
                    setup_start = i + 1;
                    continue;
                }
                Mem::Literal { bytes } => match insn {
                    Insn::LoadStore {
                        addr: arm_decode::AddrMode::Literal { offset },
                        ..
                    } => (pc.wrapping_add(offset as u64), bytes, 1),
                    _ => unreachable!(),
                },
                Mem::Access {
                    rn,
                    off,
                    bytes,
                    align,
                    must_align,
                } => {
                    let base = match rn.kind() {
                        RegKind::Gpr(n) => regs[n as usize],
                        RegKind::Sp => regs[31],
                        RegKind::Zr => unreachable!(),
                    }
                    .unwrap_or_else(|| panic!("base of {w:08x} {insn} not set up"));
                    let o = match off {
                        Off::Imm(i) => i as u64,
                        Off::Reg { rm, extend, shift } => match rm.gpr() {
                            None => 0,
                            Some(m) => {
                                let v = regs[m as usize].expect("rm set up");
                                crate::gen::extend_value(v, extend) << shift
                            }
                        },
                    };
                    (
                        base.wrapping_add(o),
                        bytes,
                        if must_align { align } else { 1 },
                    )
                }
            };
            mem_insns += 1;
            assert!(
                ea >= SCRATCH && ea + bytes <= SCRATCH + SCRATCH_SIZE,
                "{w:08x} {insn}: address {ea:#x} + {bytes} outside the scratch block"
            );
            assert_eq!(ea % align, 0, "{w:08x} {insn}: {ea:#x} not aligned");
            setup_start = i + 1;
        }
    }
    assert!(mem_insns > 5000, "{mem_insns}");
}

#[test]
fn generator_covers_data_processing_and_memory_rows() {
    let rows = Generator::new().rows();
    for r in [
        "addsub_imm",
        "logical_shifted",
        "dp3",
        "bitfield",
        "ldst_pair",
        "ldst_excl",
        "ld_literal",
    ] {
        assert!(rows.contains(&r), "{r} missing from {rows:?}");
    }
    for r in ["b", "bcond", "sysreg", "exception", "branch_reg"] {
        assert!(!rows.contains(&r), "{r} must not be generated");
    }
}

#[test]
fn unpredictable_encodings_are_recognised() {
    // ldp x1, x1, [x2] ; stxr w1, x1, [x2] ; ldr x3, [x3], #8 ; ldp x1, x2, [x3]
    assert!(unpredictable(&decode(0xa940_0441)).is_some());
    assert!(unpredictable(&decode(0xc801_7c41)).is_some());
    assert!(unpredictable(&decode(0xf840_8463)).is_some());
    assert_eq!(unpredictable(&decode(0xa940_0861)), None);
}

fn hand_case(words: &[u32], x: [(usize, u64); 2]) -> Case {
    let mut c = Case {
        index: 0,
        words: words.to_vec(),
        tested: vec![true; words.len()],
        x: [0; 31],
        sp: SCRATCH + 0x100,
        nzcv: 0,
        scratch_seed: 42,
    };
    for (i, v) in x {
        c.x[i] = v;
    }
    c
}

#[test]
fn hand_written_cases_run_on_both_backends() {
    // movz x0, #5 ; adds x1, x0, #1 ; str x1, [x2, #8] ; subs x3, x0, #6 ; ldrb w4, [x2]
    let case = hand_case(
        &[
            0xd280_00a0,
            0xb100_0401,
            0xf900_0441,
            0xf100_1803,
            0x3940_0044,
        ],
        [(2, SCRATCH), (4, 77)],
    );
    let mut scratch = vec![0; SCRATCH_SIZE as usize];
    fill_scratch(42, &mut scratch);
    for kind in [BackendKind::Interp, BackendKind::Jit] {
        let mut side = OurSide::new(kind).unwrap();
        let s = side.run(&case).unwrap();
        assert_eq!(s.x[1], 6);
        assert_eq!(s.x[3], u64::MAX);
        assert_eq!(s.x[4], scratch[0] as u64);
        assert_eq!(s.nzcv, 0x8000_0000, "N set, borrow -> C clear");
        assert_eq!(&s.scratch[8..16], &6u64.to_le_bytes());
        assert_eq!(&s.scratch[16..], &scratch[16..]);
        // The same side runs the next case from a clean state.
        let again = side.run(&case).unwrap();
        assert_eq!(again, s);
    }
}

#[test]
fn generated_cases_run_on_our_side_without_faults() {
    let mut side = OurSide::new(BackendKind::Interp).unwrap();
    for case in cases(500) {
        if let Err(e) = side.run(&case) {
            panic!("case {}: {e}\n{}", case.index, crate::listing(&case));
        }
    }
}

#[test]
fn compare_marks_differences() {
    let a = State {
        x: [1; 31],
        sp: 2,
        nzcv: 0,
        scratch: vec![0; 64],
    };
    let mut b = a.clone();
    assert!(compare(&a, &b).is_none());
    b.x[3] = 9;
    b.scratch[17] = 1;
    let r = compare(&a, &b).unwrap();
    assert!(r.contains("* x3 "), "{r}");
    assert!(r.contains("scratch differs in 1 byte"), "{r}");
    assert!(!r.contains("* x4 "), "{r}");
}

#[test]
fn harness_input_layout() {
    let c = hand_case(&[0xd280_00a0], [(0, 1), (1, 2)]);
    let bytes = crate::qemu::encode(&[c]);
    // header (2) + state (33) u64s, one word padded to 8 bytes, end marker.
    assert_eq!(bytes.len(), 35 * 8 + 8 + 8);
    assert_eq!(&bytes[0..8], &1u64.to_le_bytes());
    assert_eq!(&bytes[bytes.len() - 8..], &u64::MAX.to_le_bytes());
}
