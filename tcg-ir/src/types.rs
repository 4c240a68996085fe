//! Value types, comparison conditions, memory-operation descriptors and barrier flags.

use bitflags::bitflags;
use std::fmt;

/// The type of an IR value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    I32,
    I64,
}

impl Type {
    pub fn bits(self) -> u32 {
        match self {
            Type::I32 => 32,
            Type::I64 => 64,
        }
    }

    /// Mask of the bits a value of this type occupies in a `u64`.
    pub fn mask(self) -> u64 {
        match self {
            Type::I32 => 0xffff_ffff,
            Type::I64 => u64::MAX,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Type::I32 => "i32",
            Type::I64 => "i64",
        }
    }

    pub fn from_name(s: &str) -> Option<Type> {
        match s {
            "i32" => Some(Type::I32),
            "i64" => Some(Type::I64),
            _ => None,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! conds {
    ($($v:ident = $n:literal, $name:literal;)*) => {
        /// Comparison condition of `setcond`, `movcond` and `brcond`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Cond { $($v = $n,)* }

        impl Cond {
            pub const ALL: &'static [Cond] = &[$(Cond::$v,)*];

            pub fn name(self) -> &'static str {
                match self { $(Cond::$v => $name,)* }
            }

            pub fn from_name(s: &str) -> Option<Cond> {
                match s { $($name => Some(Cond::$v),)* _ => None }
            }

            pub fn from_u64(v: u64) -> Option<Cond> {
                match v { $($n => Some(Cond::$v),)* _ => None }
            }
        }
    };
}

conds! {
    Eq = 0, "eq";
    Ne = 1, "ne";
    Lt = 2, "lt";
    Ge = 3, "ge";
    Le = 4, "le";
    Gt = 5, "gt";
    Ltu = 6, "ltu";
    Geu = 7, "geu";
    Leu = 8, "leu";
    Gtu = 9, "gtu";
    TstEq = 10, "tsteq";
    TstNe = 11, "tstne";
}

impl Cond {
    /// Evaluates the condition on two values of type `ty` (upper bits of I32 values ignored).
    pub fn eval(self, ty: Type, a: u64, b: u64) -> bool {
        let (a, b) = (a & ty.mask(), b & ty.mask());
        let (sa, sb) = match ty {
            Type::I32 => (a as u32 as i32 as i64, b as u32 as i32 as i64),
            Type::I64 => (a as i64, b as i64),
        };
        match self {
            Cond::Eq => a == b,
            Cond::Ne => a != b,
            Cond::Lt => sa < sb,
            Cond::Ge => sa >= sb,
            Cond::Le => sa <= sb,
            Cond::Gt => sa > sb,
            Cond::Ltu => a < b,
            Cond::Geu => a >= b,
            Cond::Leu => a <= b,
            Cond::Gtu => a > b,
            Cond::TstEq => a & b == 0,
            Cond::TstNe => a & b != 0,
        }
    }

    /// The condition that is true exactly when `self` is false.
    pub fn invert(self) -> Cond {
        match self {
            Cond::Eq => Cond::Ne,
            Cond::Ne => Cond::Eq,
            Cond::Lt => Cond::Ge,
            Cond::Ge => Cond::Lt,
            Cond::Le => Cond::Gt,
            Cond::Gt => Cond::Le,
            Cond::Ltu => Cond::Geu,
            Cond::Geu => Cond::Ltu,
            Cond::Leu => Cond::Gtu,
            Cond::Gtu => Cond::Leu,
            Cond::TstEq => Cond::TstNe,
            Cond::TstNe => Cond::TstEq,
        }
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Describes a guest memory access: size, sign extension and alignment requirement.
///
/// Bits 0-1: log2 of the size in bytes; bit 2: sign-extend the loaded value; bit 3: the
/// access must be naturally aligned (else an alignment fault); bit 4: the access must be
/// single-copy atomic as a whole (exclusives, acquire/release).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemOp(pub u8);

impl MemOp {
    pub const SIZE_MASK: u8 = 3;
    pub const SIGN: u8 = 4;
    pub const ALIGN: u8 = 8;
    pub const ATOMIC: u8 = 16;

    pub const UB: MemOp = MemOp(0);
    pub const UW: MemOp = MemOp(1);
    pub const UL: MemOp = MemOp(2);
    pub const UQ: MemOp = MemOp(3);
    pub const SB: MemOp = MemOp(Self::SIGN);
    pub const SW: MemOp = MemOp(1 | Self::SIGN);
    pub const SL: MemOp = MemOp(2 | Self::SIGN);

    /// An access of `1 << size_log2` bytes, zero-extended.
    pub fn size(size_log2: u8) -> MemOp {
        MemOp(size_log2 & Self::SIZE_MASK)
    }

    pub fn size_log2(self) -> u32 {
        (self.0 & Self::SIZE_MASK) as u32
    }

    pub fn bytes(self) -> u32 {
        1 << self.size_log2()
    }

    pub fn signed(self) -> bool {
        self.0 & Self::SIGN != 0
    }

    pub fn aligned(self) -> bool {
        self.0 & Self::ALIGN != 0
    }

    pub fn with_sign(self) -> MemOp {
        MemOp(self.0 | Self::SIGN)
    }

    pub fn with_align(self) -> MemOp {
        MemOp(self.0 | Self::ALIGN)
    }

    pub fn with_atomic(self) -> MemOp {
        MemOp(self.0 | Self::ATOMIC)
    }

    /// Extends a raw little-endian value of this access's size to 64 bits.
    pub fn extend(self, raw: u64) -> u64 {
        let bits = 8 * self.bytes();
        if bits == 64 {
            return raw;
        }
        let raw = raw & ((1u64 << bits) - 1);
        if self.signed() {
            let shift = 64 - bits;
            (((raw << shift) as i64) >> shift) as u64
        } else {
            raw
        }
    }

    /// Text form: `ub uw ul uq sb sw sl sq`, then `+a` for aligned and `+x` for atomic.
    pub fn name(self) -> String {
        let mut s = String::new();
        s.push(if self.signed() { 's' } else { 'u' });
        s.push(['b', 'w', 'l', 'q'][self.size_log2() as usize]);
        if self.aligned() {
            s.push_str("+a");
        }
        if self.0 & Self::ATOMIC != 0 {
            s.push_str("+x");
        }
        s
    }

    pub fn from_name(s: &str) -> Option<MemOp> {
        let mut parts = s.split('+');
        let base = parts.next()?;
        let b = base.as_bytes();
        if b.len() != 2 {
            return None;
        }
        let mut v = match b[1] {
            b'b' => 0,
            b'w' => 1,
            b'l' => 2,
            b'q' => 3,
            _ => return None,
        };
        match b[0] {
            b'u' => {}
            b's' => v |= Self::SIGN,
            _ => return None,
        }
        for p in parts {
            match p {
                "a" => v |= Self::ALIGN,
                "x" => v |= Self::ATOMIC,
                _ => return None,
            }
        }
        Some(MemOp(v))
    }
}

/// Which of a vCPU's TLBs (translation regimes) a guest access uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MmuIdx(pub u8);

bitflags! {
    /// Ordering a memory barrier enforces: which earlier accesses (first letter) must be
    /// ordered before which later ones (second letter).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct BarrierFlags: u8 {
        const LD_LD = 1;
        const LD_ST = 2;
        const ST_LD = 4;
        const ST_ST = 8;
        const ALL = 15;
    }
}

impl BarrierFlags {
    pub fn text(self) -> String {
        let mut parts = Vec::new();
        for (f, n) in [
            (BarrierFlags::LD_LD, "ldld"),
            (BarrierFlags::LD_ST, "ldst"),
            (BarrierFlags::ST_LD, "stld"),
            (BarrierFlags::ST_ST, "stst"),
        ] {
            if self.contains(f) {
                parts.push(n);
            }
        }
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join("|")
        }
    }

    pub fn parse_text(s: &str) -> Option<BarrierFlags> {
        if s == "none" {
            return Some(BarrierFlags::empty());
        }
        let mut f = BarrierFlags::empty();
        for p in s.split('|') {
            f |= match p {
                "ldld" => BarrierFlags::LD_LD,
                "ldst" => BarrierFlags::LD_ST,
                "stld" => BarrierFlags::ST_LD,
                "stst" => BarrierFlags::ST_ST,
                _ => return None,
            };
        }
        Some(f)
    }
}

macro_rules! rmw_ops {
    ($($v:ident = $n:literal, $name:literal;)*) => {
        /// The operation of an atomic read-modify-write (`atomic_rmw`); the op returns the
        /// old memory value.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum RmwOp { $($v = $n,)* }

        impl RmwOp {
            pub const ALL: &'static [RmwOp] = &[$(RmwOp::$v,)*];
            pub fn name(self) -> &'static str { match self { $(RmwOp::$v => $name,)* } }
            pub fn from_name(s: &str) -> Option<RmwOp> { match s { $($name => Some(RmwOp::$v),)* _ => None } }
            pub fn from_u64(v: u64) -> Option<RmwOp> { match v { $($n => Some(RmwOp::$v),)* _ => None } }
        }
    };
}

rmw_ops! {
    Xchg = 0, "xchg";
    Add = 1, "add";
    And = 2, "and";
    Or = 3, "or";
    Xor = 4, "xor";
    Smax = 5, "smax";
    Smin = 6, "smin";
    Umax = 7, "umax";
    Umin = 8, "umin";
}

impl RmwOp {
    /// The new memory value for `old` and operand `v`, both as `bytes`-wide values (sign
    /// extension for the signed min/max is done here).
    pub fn apply(self, bytes: u32, old: u64, v: u64) -> u64 {
        let bits = 8 * bytes;
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let sx = |x: u64| -> i64 {
            let s = 64 - bits;
            ((x << s) as i64) >> s
        };
        let (o, v) = (old & mask, v & mask);
        let r = match self {
            RmwOp::Xchg => v,
            RmwOp::Add => o.wrapping_add(v),
            RmwOp::And => o & v,
            RmwOp::Or => o | v,
            RmwOp::Xor => o ^ v,
            RmwOp::Smax => {
                if sx(o) >= sx(v) {
                    o
                } else {
                    v
                }
            }
            RmwOp::Smin => {
                if sx(o) <= sx(v) {
                    o
                } else {
                    v
                }
            }
            RmwOp::Umax => o.max(v),
            RmwOp::Umin => o.min(v),
        };
        r & mask
    }
}
