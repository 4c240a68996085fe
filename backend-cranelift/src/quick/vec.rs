//! Vector ops as host SSE code in the quick tier: the operands are loaded from env into
//! `xmm0`-`xmm3`, computed and stored back, as Cranelift's code does. Only the forms with
//! a short SSE sequence are native (every lane size for the bitwise ops, add, sub and the
//! shuffles; the others for the lane sizes SSE has instructions for); everything else, and
//! every op on a host without SSE4.2/SSSE3, stays on the `qk_vec` helper.
//!
//! 8-byte shapes load their operands with `movq` (upper half zero), compute on the whole
//! register and store the low half plus eight zero bytes, so the result's upper half is
//! zero whatever the op leaves there.

// `dynasm!` converts dynamic register numbers with `.into()`, even from the right type.
#![allow(clippy::useless_conversion)]

use super::{Gen, VEC_DESC_BYTES};
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};
use tcg_ir::vector::{self, VecShape};
use tcg_ir::{BackendError, Cond, Op, Opc};

/// Whether the host has the SSE extensions the native forms use (SSSE3: `pshufb`,
/// `pabs*`; SSE4.1: the byte/dword min/max, `pmulld`, `pcmpeqq`; SSE4.2: `pcmpgtq`).
fn host_ok() -> bool {
    std::arch::is_x86_feature_detected!("ssse3")
        && std::arch::is_x86_feature_detected!("sse4.1")
        && std::arch::is_x86_feature_detected!("sse4.2")
}

/// The lane-wise operation of a two-source op, or how a compare is built.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bin {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    Andc,
    Orc,
    Smin,
    Smax,
    Umin,
    Umax,
}

impl Gen<'_> {
    /// Emits `op` as SSE code when it has a native form; `false` leaves it to the helper.
    pub(super) fn vec_native(&mut self, op: &Op) -> Result<bool, BackendError> {
        let Ok(p) = vector::params(op) else {
            return Ok(false);
        };
        if !host_ok() || !supported(op.opc, p.shape, p.cond) {
            return Ok(false);
        }
        let s = p.shape;
        let e = |k: usize| p.envs.get(k).map(|&o| o as i32).ok_or(bad());
        // The cache registers are untouched; cached copies of globals the result
        // overwrites are dropped below.
        match op.opc {
            Opc::VMov => self.vld(0, e(1)?, s.q),
            Opc::VNot => {
                self.vld(0, e(1)?, s.q);
                dynasm!(self.a ; .arch x64 ; pcmpeqd xmm1, xmm1 ; pxor xmm0, xmm1);
            }
            Opc::VNeg => {
                self.vld(1, e(1)?, s.q);
                dynasm!(self.a ; .arch x64 ; pxor xmm0, xmm0);
                self.bin(Bin::Sub, s.vece);
            }
            Opc::VAbs => {
                self.vld(1, e(1)?, s.q);
                match s.vece {
                    0 => dynasm!(self.a ; .arch x64 ; pabsb xmm0, xmm1),
                    1 => dynasm!(self.a ; .arch x64 ; pabsw xmm0, xmm1),
                    _ => dynasm!(self.a ; .arch x64 ; pabsd xmm0, xmm1),
                }
            }
            Opc::VMla | Opc::VMls => {
                self.vld(0, e(1)?, s.q);
                self.vld(1, e(2)?, s.q);
                self.bin(Bin::Mul, s.vece);
                dynasm!(self.a ; .arch x64 ; movdqa xmm1, xmm0);
                self.vld(0, e(3)?, s.q);
                let b = if op.opc == Opc::VMla {
                    Bin::Add
                } else {
                    Bin::Sub
                };
                self.bin(b, s.vece);
            }
            Opc::VCmp | Opc::VCmps => {
                self.vld(0, e(1)?, s.q);
                if op.opc == Opc::VCmp {
                    self.vld(1, e(2)?, s.q);
                } else {
                    self.dup_scalar(op, 1, s.vece)?;
                }
                self.vcompare(p.cond, s.vece);
            }
            Opc::VShli | Opc::VShri | Opc::VSari => {
                self.vld(0, e(1)?, s.q);
                self.vshift(op.opc, s.vece, p.imm);
            }
            Opc::VBitsel => {
                // d = (t & c) | (f & !c) for operands d, c, t, f.
                self.vld(0, e(1)?, s.q);
                self.vld(1, e(2)?, s.q);
                self.vld(2, e(3)?, s.q);
                dynasm!(self.a
                    ; .arch x64
                    ; pand xmm1, xmm0
                    ; pandn xmm0, xmm2
                    ; por xmm0, xmm1
                );
            }
            Opc::VDup => self.dup_scalar(op, 0, s.vece)?,
            Opc::VAnds | Opc::VOrs => {
                self.vld(0, e(1)?, s.q);
                self.dup_scalar(op, 1, s.vece)?;
                let b = if op.opc == Opc::VAnds {
                    Bin::And
                } else {
                    Bin::Or
                };
                self.bin(b, s.vece);
            }
            Opc::VShuf => {
                let mask = p.mask.ok_or(bad())?;
                self.shuffle(e(1)?, e(2)?, mask);
            }
            Opc::VTbl => {
                // pshufb zeroes a byte whose index has bit 7 set and otherwise takes
                // index & 15; adding 0x70 with unsigned saturation sets bit 7 exactly for
                // the indices 16 to 255.
                let l = self.a.new_dynamic_label();
                self.data.push((l, [0x70; VEC_DESC_BYTES]));
                self.vld(0, e(1)?, true);
                self.vld(1, e(2)?, s.q);
                dynasm!(self.a
                    ; .arch x64
                    ; lea rax, [=>l]
                    ; paddusb xmm1, [rax]
                    ; pshufb xmm0, xmm1
                );
            }
            Opc::VUsadd | Opc::VSsadd | Opc::VUssub | Opc::VSssub => {
                self.vld(0, e(1)?, s.q);
                self.vld(1, e(2)?, s.q);
                self.saturating(op.opc, s);
                // The flag output is written after the destination.
                let d = e(0)?;
                self.vst(d, s.q);
                self.drop_env(d, 16);
                let out = *op.oargs.first().ok_or(bad())?;
                self.store(out, super::RAX)?;
                return Ok(true);
            }
            opc => {
                let b = bin_of(opc).ok_or(bad())?;
                self.vld(0, e(1)?, s.q);
                self.vld(1, e(2)?, s.q);
                self.bin(b, s.vece);
            }
        }
        let d = e(0)?;
        self.vst(d, s.q);
        self.drop_env(d, 16);
        Ok(true)
    }

    /// `xmm{x}` = the operand at env offset `off` (8 bytes, upper half zero, unless `q`).
    fn vld(&mut self, x: u8, off: i32, q: bool) {
        if q {
            dynasm!(self.a ; .arch x64 ; movdqu Rx(x), [rbx + off]);
        } else {
            dynasm!(self.a ; .arch x64 ; movq Rx(x), QWORD [rbx + off]);
        }
    }

    /// Stores `xmm0` as the result at env offset `off` (8 bytes and 8 zero bytes unless
    /// `q`).
    fn vst(&mut self, off: i32, q: bool) {
        if q {
            dynasm!(self.a ; .arch x64 ; movdqu [rbx + off], xmm0);
        } else {
            dynasm!(self.a
                ; .arch x64
                ; movq QWORD [rbx + off], xmm0
                ; mov QWORD [rbx + off + 8], 0
            );
        }
    }

    /// `xmm0 = xmm0 <b> xmm1` on lanes of `1 << vece` bytes (`bin_ok` holds).
    fn bin(&mut self, b: Bin, vece: u8) {
        macro_rules! by_size {
            ($i8:ident, $i16:ident, $i32:ident, $i64:ident) => {
                match vece {
                    0 => dynasm!(self.a ; .arch x64 ; $i8 xmm0, xmm1),
                    1 => dynasm!(self.a ; .arch x64 ; $i16 xmm0, xmm1),
                    2 => dynasm!(self.a ; .arch x64 ; $i32 xmm0, xmm1),
                    _ => dynasm!(self.a ; .arch x64 ; $i64 xmm0, xmm1),
                }
            };
        }
        match b {
            Bin::Add => by_size!(paddb, paddw, paddd, paddq),
            Bin::Sub => by_size!(psubb, psubw, psubd, psubq),
            // 8- and 64-bit lanes never get here (`bin_ok`).
            Bin::Mul => by_size!(pmullw, pmullw, pmulld, pmulld),
            Bin::And => dynasm!(self.a ; .arch x64 ; pand xmm0, xmm1),
            Bin::Or => dynasm!(self.a ; .arch x64 ; por xmm0, xmm1),
            Bin::Xor => dynasm!(self.a ; .arch x64 ; pxor xmm0, xmm1),
            Bin::Andc => dynasm!(self.a ; .arch x64 ; pandn xmm1, xmm0 ; movdqa xmm0, xmm1),
            Bin::Orc => dynasm!(self.a
                ; .arch x64
                ; pcmpeqd xmm2, xmm2
                ; pxor xmm1, xmm2
                ; por xmm0, xmm1
            ),
            Bin::Smin => by_size!(pminsb, pminsw, pminsd, pminsd),
            Bin::Smax => by_size!(pmaxsb, pmaxsw, pmaxsd, pmaxsd),
            Bin::Umin => by_size!(pminub, pminuw, pminud, pminud),
            Bin::Umax => by_size!(pmaxub, pmaxuw, pmaxud, pmaxud),
        }
    }

    /// `xmm0` = all-ones lanes where `xmm0 <cond> xmm1` (`vec_supported` holds); uses
    /// `xmm2`.
    fn vcompare(&mut self, cond: Cond, vece: u8) {
        macro_rules! by_size {
            ($dst:ident, $src:ident, $i8:ident, $i16:ident, $i32:ident, $i64:ident) => {
                match vece {
                    0 => dynasm!(self.a ; .arch x64 ; $i8 $dst, $src),
                    1 => dynasm!(self.a ; .arch x64 ; $i16 $dst, $src),
                    2 => dynasm!(self.a ; .arch x64 ; $i32 $dst, $src),
                    _ => dynasm!(self.a ; .arch x64 ; $i64 $dst, $src),
                }
            };
        }
        // First the condition or its negation into xmm0, then invert if needed.
        let invert = match cond {
            Cond::Eq | Cond::Ne => {
                by_size!(xmm0, xmm1, pcmpeqb, pcmpeqw, pcmpeqd, pcmpeqq);
                cond == Cond::Ne
            }
            Cond::TstEq | Cond::TstNe => {
                dynasm!(self.a ; .arch x64 ; pand xmm0, xmm1 ; pxor xmm1, xmm1);
                by_size!(xmm0, xmm1, pcmpeqb, pcmpeqw, pcmpeqd, pcmpeqq);
                cond == Cond::TstNe
            }
            Cond::Gt | Cond::Le => {
                by_size!(xmm0, xmm1, pcmpgtb, pcmpgtw, pcmpgtd, pcmpgtq);
                cond == Cond::Le
            }
            Cond::Lt | Cond::Ge => {
                by_size!(xmm1, xmm0, pcmpgtb, pcmpgtw, pcmpgtd, pcmpgtq);
                dynasm!(self.a ; .arch x64 ; movdqa xmm0, xmm1);
                cond == Cond::Ge
            }
            Cond::Geu | Cond::Ltu => {
                // a >=u b exactly when max_u(a, b) == a.
                by_size!(xmm1, xmm0, pmaxub, pmaxuw, pmaxud, pmaxud);
                by_size!(xmm0, xmm1, pcmpeqb, pcmpeqw, pcmpeqd, pcmpeqq);
                cond == Cond::Ltu
            }
            Cond::Leu | Cond::Gtu => {
                by_size!(xmm1, xmm0, pminub, pminuw, pminud, pminud);
                by_size!(xmm0, xmm1, pcmpeqb, pcmpeqw, pcmpeqd, pcmpeqq);
                cond == Cond::Gtu
            }
        };
        if invert {
            dynasm!(self.a ; .arch x64 ; pcmpeqd xmm2, xmm2 ; pxor xmm0, xmm2);
        }
    }

    /// `xmm0` shifted by `imm` (`vec_supported` holds: no byte lanes, no 64-bit
    /// arithmetic shift).
    fn vshift(&mut self, opc: Opc, vece: u8, imm: u64) {
        let bits = 8u64 << vece;
        if opc != Opc::VSari && imm >= bits {
            dynasm!(self.a ; .arch x64 ; pxor xmm0, xmm0);
            return;
        }
        // Arithmetic shifts by the lane size or more fill with the sign.
        let n = imm.min(bits - 1) as i8;
        match (opc, vece) {
            (Opc::VShli, 1) => dynasm!(self.a ; .arch x64 ; psllw xmm0, n),
            (Opc::VShli, 2) => dynasm!(self.a ; .arch x64 ; pslld xmm0, n),
            (Opc::VShli, _) => dynasm!(self.a ; .arch x64 ; psllq xmm0, n),
            (Opc::VShri, 1) => dynasm!(self.a ; .arch x64 ; psrlw xmm0, n),
            (Opc::VShri, 2) => dynasm!(self.a ; .arch x64 ; psrld xmm0, n),
            (Opc::VShri, _) => dynasm!(self.a ; .arch x64 ; psrlq xmm0, n),
            (_, 1) => dynasm!(self.a ; .arch x64 ; psraw xmm0, n),
            _ => dynasm!(self.a ; .arch x64 ; psrad xmm0, n),
        }
    }

    /// `xmm{x}` = the op's scalar input (its low lane bits) in every lane; uses `rdx`.
    fn dup_scalar(&mut self, op: &Op, x: u8, vece: u8) -> Result<(), BackendError> {
        let t = *op.iargs.first().ok_or(bad())?;
        self.load(super::RDX, t)?;
        dynasm!(self.a ; .arch x64 ; movq Rx(x), rdx);
        match vece {
            0 => dynasm!(self.a
                ; .arch x64
                ; punpcklbw Rx(x), Rx(x)
                ; pshuflw Rx(x), Rx(x), 0
                ; punpcklqdq Rx(x), Rx(x)
            ),
            1 => dynasm!(self.a
                ; .arch x64
                ; pshuflw Rx(x), Rx(x), 0
                ; punpcklqdq Rx(x), Rx(x)
            ),
            2 => dynasm!(self.a ; .arch x64 ; pshufd Rx(x), Rx(x), 0),
            _ => dynasm!(self.a ; .arch x64 ; punpcklqdq Rx(x), Rx(x)),
        }
        Ok(())
    }

    /// `xmm0` = bytes of `a:b` picked by `mask` (16 index bytes; 32 or more: zero): two
    /// `pshufb`s with masks made at compile time (the other source's and out-of-range
    /// indices select zero), ORed.
    fn shuffle(&mut self, a: i32, b: i32, mask: u128) {
        let mut desc = [0u8; VEC_DESC_BYTES];
        for i in 0..16 {
            let m = (mask >> (8 * i)) as u8;
            desc[i] = if m < 16 { m } else { 0x80 };
            desc[16 + i] = if (16..32).contains(&m) { m - 16 } else { 0x80 };
        }
        let l = self.a.new_dynamic_label();
        self.data.push((l, desc));
        // The masks are 16-byte aligned (`compile` aligns the data), as `pshufb` needs.
        dynasm!(self.a
            ; .arch x64
            ; movdqu xmm0, [rbx + a]
            ; movdqu xmm1, [rbx + b]
            ; lea rax, [=>l]
            ; pshufb xmm0, [rax]
            ; pshufb xmm1, [rax + 16]
            ; por xmm0, xmm1
        );
    }

    /// The saturating add/sub of `xmm0` and `xmm1` into `xmm0`, and in `rax` whether a
    /// lane saturated (1 when the wrapping result differs).
    fn saturating(&mut self, opc: Opc, s: VecShape) {
        dynasm!(self.a ; .arch x64 ; movdqa xmm2, xmm0);
        match (opc, s.vece) {
            (Opc::VUsadd, 0) => dynasm!(self.a ; .arch x64 ; paddusb xmm0, xmm1 ; paddb xmm2, xmm1),
            (Opc::VUsadd, _) => dynasm!(self.a ; .arch x64 ; paddusw xmm0, xmm1 ; paddw xmm2, xmm1),
            (Opc::VSsadd, 0) => dynasm!(self.a ; .arch x64 ; paddsb xmm0, xmm1 ; paddb xmm2, xmm1),
            (Opc::VSsadd, _) => dynasm!(self.a ; .arch x64 ; paddsw xmm0, xmm1 ; paddw xmm2, xmm1),
            (Opc::VUssub, 0) => dynasm!(self.a ; .arch x64 ; psubusb xmm0, xmm1 ; psubb xmm2, xmm1),
            (Opc::VUssub, _) => dynasm!(self.a ; .arch x64 ; psubusw xmm0, xmm1 ; psubw xmm2, xmm1),
            (_, 0) => dynasm!(self.a ; .arch x64 ; psubsb xmm0, xmm1 ; psubb xmm2, xmm1),
            _ => dynasm!(self.a ; .arch x64 ; psubsw xmm0, xmm1 ; psubw xmm2, xmm1),
        }
        // Bytes equal to the wrapping result: all 16 (all 8 low ones for 8-byte shapes,
        // whose upper lanes are zero in both) means no lane saturated.
        let all = if s.q { 0xffff } else { 0xff };
        dynasm!(self.a
            ; .arch x64
            ; pcmpeqb xmm2, xmm0
            ; pmovmskb eax, xmm2
            ; and eax, all
            ; cmp eax, all
            ; setne al
            ; movzx eax, al
        );
    }
}

/// Whether `opc` in shape `s` (with `cond`) has a native form.
fn supported(opc: Opc, s: VecShape, cond: Cond) -> bool {
    let v = s.vece;
    match opc {
        Opc::VMov | Opc::VNot | Opc::VNeg | Opc::VBitsel | Opc::VDup => true,
        Opc::VAnds | Opc::VOrs | Opc::VShuf | Opc::VTbl => true,
        Opc::VAbs => v < 3,
        Opc::VShli | Opc::VShri => v > 0,
        Opc::VSari => matches!(v, 1 | 2),
        Opc::VMla | Opc::VMls => bin_ok(Bin::Mul, v),
        Opc::VCmp | Opc::VCmps => match cond {
            Cond::Eq | Cond::Ne | Cond::TstEq | Cond::TstNe => true,
            Cond::Lt | Cond::Ge | Cond::Le | Cond::Gt => true,
            // a >=u b is max_u(a, b) == a.
            Cond::Ltu | Cond::Geu | Cond::Leu | Cond::Gtu => v < 3,
        },
        Opc::VUsadd | Opc::VSsadd | Opc::VUssub | Opc::VSssub => v < 2,
        opc => bin_of(opc).is_some_and(|b| bin_ok(b, v)),
    }
}

fn bad() -> BackendError {
    BackendError::Compile("quick: malformed vector op".into())
}

fn bin_of(opc: Opc) -> Option<Bin> {
    Some(match opc {
        Opc::VAdd => Bin::Add,
        Opc::VSub => Bin::Sub,
        Opc::VMul => Bin::Mul,
        Opc::VAnd => Bin::And,
        Opc::VOr => Bin::Or,
        Opc::VXor => Bin::Xor,
        Opc::VAndc => Bin::Andc,
        Opc::VOrc => Bin::Orc,
        Opc::VSmin => Bin::Smin,
        Opc::VSmax => Bin::Smax,
        Opc::VUmin => Bin::Umin,
        Opc::VUmax => Bin::Umax,
        _ => return None,
    })
}

/// Whether SSE has `b` for lanes of `1 << vece` bytes.
fn bin_ok(b: Bin, vece: u8) -> bool {
    match b {
        Bin::Mul => matches!(vece, 1 | 2),
        Bin::Smin | Bin::Smax | Bin::Umin | Bin::Umax => vece < 3,
        _ => true,
    }
}
