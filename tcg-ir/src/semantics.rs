//! The meaning of the pure opcodes, shared by the interpreter and constant folding.
//!
//! Values are `u64`; I32 values are kept zero-extended and every result is masked.

use crate::opcodes::Opc;
use crate::types::Type;

fn sext(ty: Type, v: u64) -> i64 {
    match ty {
        Type::I32 => v as u32 as i32 as i64,
        Type::I64 => v as i64,
    }
}

/// Evaluates a pure one-input op. Returns `None` for opcodes that are not pure unary ops.
pub fn eval_unary(opc: Opc, ty: Type, a: u64) -> Option<u64> {
    // Conversions have fixed input and output types whatever `ty` says.
    match opc {
        Opc::ExtuI32I64 => return Some(a & 0xffff_ffff),
        Opc::ExtsI32I64 => return Some(a as u32 as i32 as i64 as u64),
        Opc::ExtrlI64I32 => return Some(a & 0xffff_ffff),
        Opc::ExtrhI64I32 => return Some(a >> 32),
        _ => {}
    }
    let m = ty.mask();
    let a = a & m;
    let bits = ty.bits();
    let r = match opc {
        Opc::Mov => a,
        Opc::Neg => a.wrapping_neg(),
        Opc::Not => !a,
        Opc::Ext8s => a as u8 as i8 as i64 as u64,
        Opc::Ext8u => a as u8 as u64,
        Opc::Ext16s => a as u16 as i16 as i64 as u64,
        Opc::Ext16u => a as u16 as u64,
        Opc::Ext32s => a as u32 as i32 as i64 as u64,
        Opc::Ext32u => a as u32 as u64,
        Opc::Clz => match ty {
            Type::I32 => (a as u32).leading_zeros() as u64,
            Type::I64 => a.leading_zeros() as u64,
        },
        Opc::Ctz => {
            if a == 0 {
                bits as u64
            } else {
                a.trailing_zeros() as u64
            }
        }
        Opc::Ctpop => a.count_ones() as u64,
        Opc::Bswap16 => (a as u16).swap_bytes() as u64,
        Opc::Bswap32 => (a as u32).swap_bytes() as u64,
        Opc::Bswap64 => a.swap_bytes(),
        _ => return None,
    };
    Some(r & m)
}

/// Evaluates a pure two-input op. Returns `None` for opcodes that are not pure binary ops.
pub fn eval_binary(opc: Opc, ty: Type, a: u64, b: u64) -> Option<u64> {
    let m = ty.mask();
    let (a, b) = (a & m, b & m);
    let bits = ty.bits();
    let sh = (b % bits as u64) as u32;
    let (sa, sb) = (sext(ty, a), sext(ty, b));
    let min = sext(ty, 1u64 << (bits - 1));
    let r = match opc {
        Opc::Add => a.wrapping_add(b),
        Opc::Sub => a.wrapping_sub(b),
        Opc::Mul => a.wrapping_mul(b),
        Opc::And => a & b,
        Opc::Or => a | b,
        Opc::Xor => a ^ b,
        Opc::Andc => a & !b,
        Opc::Orc => a | !b,
        Opc::Eqv => !(a ^ b),
        Opc::Shl => a << sh,
        Opc::Shr => a >> sh,
        Opc::Sar => (sa >> sh) as u64,
        Opc::Rotl => match ty {
            Type::I32 => (a as u32).rotate_left(sh) as u64,
            Type::I64 => a.rotate_left(sh),
        },
        Opc::Rotr => match ty {
            Type::I32 => (a as u32).rotate_right(sh) as u64,
            Type::I64 => a.rotate_right(sh),
        },
        Opc::Divu => a.checked_div(b).unwrap_or(0),
        Opc::Remu => a.checked_rem(b).unwrap_or(a),
        Opc::Div => {
            if sb == 0 {
                0
            } else if sa == min && sb == -1 {
                min as u64
            } else {
                (sa / sb) as u64
            }
        }
        Opc::Rem => {
            if sb == 0 {
                a
            } else if sa == min && sb == -1 {
                0
            } else {
                (sa % sb) as u64
            }
        }
        _ => return None,
    };
    Some(r & m)
}

/// `deposit`: `a` with `len` bits at `pos` replaced by the low bits of `b`.
pub fn deposit(ty: Type, a: u64, b: u64, pos: u32, len: u32) -> u64 {
    let field = if len >= 64 {
        u64::MAX
    } else {
        (1u64 << len) - 1
    };
    let mask = field.checked_shl(pos).unwrap_or(0);
    ((a & !mask) | ((b << pos) & mask)) & ty.mask()
}

/// `extract` / `sextract`: `len` bits of `a` at `pos`, zero- or sign-extended.
pub fn extract(ty: Type, a: u64, pos: u32, len: u32, signed: bool) -> u64 {
    let a = a & ty.mask();
    if len == 0 {
        return 0;
    }
    let v = a >> pos;
    let r = if signed {
        let s = 64 - len;
        (((v << s) as i64) >> s) as u64
    } else if len >= 64 {
        v
    } else {
        v & ((1u64 << len) - 1)
    };
    r & ty.mask()
}

/// `mulu2` / `muls2`: the full product as (low, high).
pub fn mul2(ty: Type, a: u64, b: u64, signed: bool) -> (u64, u64) {
    let m = ty.mask();
    let bits = ty.bits();
    let p: u128 = if signed {
        (sext(ty, a) as i128).wrapping_mul(sext(ty, b) as i128) as u128
    } else {
        ((a & m) as u128) * ((b & m) as u128)
    };
    ((p as u64) & m, ((p >> bits) as u64) & m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_edge_cases_are_defined() {
        assert_eq!(eval_binary(Opc::Divu, Type::I64, 5, 0), Some(0));
        assert_eq!(eval_binary(Opc::Remu, Type::I64, 5, 0), Some(5));
        let min32 = 0x8000_0000u64;
        assert_eq!(
            eval_binary(Opc::Div, Type::I32, min32, 0xffff_ffff),
            Some(min32)
        );
        assert_eq!(
            eval_binary(Opc::Rem, Type::I32, min32, 0xffff_ffff),
            Some(0)
        );
        assert_eq!(
            eval_binary(Opc::Div, Type::I64, (-7i64) as u64, 2),
            Some((-3i64) as u64)
        );
    }

    #[test]
    fn i32_results_stay_zero_extended() {
        assert_eq!(eval_binary(Opc::Sub, Type::I32, 0, 1), Some(0xffff_ffff));
        assert_eq!(
            eval_binary(Opc::Sar, Type::I32, 0x8000_0000, 4),
            Some(0xf800_0000)
        );
        assert_eq!(eval_unary(Opc::Ext8s, Type::I32, 0x80), Some(0xffff_ff80));
        assert_eq!(eval_binary(Opc::Shl, Type::I32, 1, 33), Some(2));
    }

    #[test]
    fn conversions_ignore_the_op_type() {
        for ty in [Type::I32, Type::I64] {
            assert_eq!(
                eval_unary(Opc::ExtrhI64I32, ty, 0x1234_5678_9abc_def0),
                Some(0x1234_5678)
            );
            assert_eq!(
                eval_unary(Opc::ExtsI32I64, ty, 0x8000_0000),
                Some(0xffff_ffff_8000_0000)
            );
        }
    }

    #[test]
    fn bitfields_and_wide_multiply() {
        assert_eq!(deposit(Type::I64, 0xffff, 0, 4, 8), 0xf00f);
        assert_eq!(extract(Type::I64, 0xabcd, 4, 8, false), 0xbc);
        assert_eq!(extract(Type::I32, 0x80, 4, 4, true), 0xffff_fff8);
        assert_eq!(mul2(Type::I64, u64::MAX, 2, false), (u64::MAX - 1, 1));
        assert_eq!(
            mul2(Type::I64, u64::MAX, 2, true),
            ((-2i64) as u64, u64::MAX)
        );
    }
}
