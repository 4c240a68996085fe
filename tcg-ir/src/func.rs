//! A translation block's IR: temps, labels, ops and the helpers its calls name.

use crate::backend::Helper;
use crate::opcodes::{OpFlags, Opc};
use crate::types::Type;
use smallvec::SmallVec;
use std::borrow::Cow;

/// Index of a temp in [`Func::temps`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Temp(pub u32);

impl Temp {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A branch target inside one function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(pub u32);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TempKind {
    /// Lives in the CPU state at `env + offset`; its value persists across TBs.
    Global { offset: u32 },
    /// A value of this TB only, valid across branches within the TB.
    Local,
    /// A constant (value already masked to the type's width).
    Const(u64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TempData {
    pub kind: TempKind,
    pub ty: Type,
    /// Names are required for globals; locals print as `tN`. Usually `'static` (the
    /// translator's register names), so cloning a `Func` does not copy them.
    pub name: Option<Cow<'static, str>>,
}

/// One IR instruction: outputs, inputs (temps) and constant arguments as the opcode's
/// table entry describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    pub opc: Opc,
    pub ty: Type,
    pub oargs: SmallVec<[Temp; 2]>,
    pub iargs: SmallVec<[Temp; 4]>,
    pub cargs: SmallVec<[u64; 2]>,
}

/// The IR of one translation block.
#[derive(Clone, Debug, Default)]
pub struct Func {
    pub temps: Vec<TempData>,
    pub ops: Vec<Op>,
    pub nb_labels: u32,
    /// Helpers named by `call` ops (their first constant argument indexes this).
    pub helpers: Vec<&'static Helper>,
    /// Bit `n`: `goto_tb n` continues at this TB's own first instruction, with the same
    /// TB key (a loop that is one TB). A back end may run such a loop without leaving the
    /// TB, provided it still leaves on exit requests and once the slot is unchained (an
    /// invalidation). 0 when unknown.
    pub self_loops: u8,
}

/// Emptied vectors of finished functions, per thread, for the next [`crate::Builder`]: a
/// TB's IR is built, compiled and dropped on the same thread, so translating does not
/// allocate its two biggest vectors each time.
const POOL_MAX: usize = 4;
/// Vectors that grew past this many elements (a huge TB) are freed rather than kept.
const POOL_MAX_LEN: usize = 4096;

thread_local! {
    static POOL: std::cell::RefCell<Vec<(Vec<TempData>, Vec<Op>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl Func {
    /// An empty function, reusing recycled vectors when the thread has some.
    pub(crate) fn from_pool() -> Func {
        let (temps, ops) = POOL
            .with(|p| p.borrow_mut().pop())
            .unwrap_or_else(|| (Vec::with_capacity(128), Vec::with_capacity(128)));
        Func {
            temps,
            ops,
            ..Func::default()
        }
    }

    /// Gives the function's vectors back to this thread's pool once it is no longer
    /// needed (dropping it instead is fine, only slower).
    pub fn recycle(self) {
        let Func {
            mut temps, mut ops, ..
        } = self;
        if temps.capacity() > POOL_MAX_LEN || ops.capacity() > POOL_MAX_LEN {
            return;
        }
        temps.clear();
        ops.clear();
        POOL.with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < POOL_MAX {
                p.push((temps, ops));
            }
        });
    }

    pub fn temp(&self, t: Temp) -> &TempData {
        &self.temps[t.index()]
    }

    pub fn ty(&self, t: Temp) -> Type {
        self.temps[t.index()].ty
    }

    pub fn is_const(&self, t: Temp) -> bool {
        matches!(self.temps[t.index()].kind, TempKind::Const(_))
    }

    pub fn const_value(&self, t: Temp) -> Option<u64> {
        match self.temps[t.index()].kind {
            TempKind::Const(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_global(&self, t: Temp) -> bool {
        matches!(self.temps[t.index()].kind, TempKind::Global { .. })
    }

    /// Finds or creates the constant temp of `ty` with value `v` (masked to the type).
    pub fn constant(&mut self, ty: Type, v: u64) -> Temp {
        let v = v & ty.mask();
        if let Some(i) = self
            .temps
            .iter()
            .position(|t| t.ty == ty && t.kind == TempKind::Const(v))
        {
            return Temp(i as u32);
        }
        self.push_temp(TempData {
            kind: TempKind::Const(v),
            ty,
            name: None,
        })
    }

    pub fn push_temp(&mut self, data: TempData) -> Temp {
        self.temps.push(data);
        Temp(self.temps.len() as u32 - 1)
    }

    /// The printable name of a temp (`$0x..` for constants).
    pub fn temp_name(&self, t: Temp) -> String {
        let d = &self.temps[t.index()];
        match (&d.kind, &d.name) {
            (TempKind::Const(v), _) => format!("${v:#x}"),
            (_, Some(n)) => n.to_string(),
            (_, None) => format!("t{}", t.0),
        }
    }

    /// Number of guest instructions (`insn_start` ops) in this TB.
    pub fn guest_insn_count(&self) -> usize {
        self.ops.iter().filter(|o| o.opc == Opc::InsnStart).count()
    }

    /// The input and output types an op requires, in argument order.
    pub fn arg_types(&self, op: &Op) -> (SmallVec<[Type; 2]>, SmallVec<[Type; 4]>) {
        use Opc::*;
        let ty = op.ty;
        let mut outs: SmallVec<[Type; 2]> = SmallVec::new();
        let mut ins: SmallVec<[Type; 4]> = SmallVec::new();
        match op.opc {
            ExtuI32I64 | ExtsI32I64 => {
                outs.push(Type::I64);
                ins.push(Type::I32);
            }
            ExtrlI64I32 | ExtrhI64I32 => {
                outs.push(Type::I32);
                ins.push(Type::I64);
            }
            QemuLd => {
                outs.push(ty);
                ins.push(Type::I64);
            }
            QemuSt => {
                ins.push(ty);
                ins.push(Type::I64);
            }
            LookupGoto => ins.push(Type::I64),
            AtomicCmpxchg => {
                outs.push(ty);
                ins.extend([Type::I64, ty, ty]);
            }
            AtomicRmw => {
                outs.push(ty);
                ins.extend([Type::I64, ty]);
            }
            Call => {
                outs.extend(op.oargs.iter().map(|_| Type::I64));
                ins.extend(op.iargs.iter().map(|_| Type::I64));
            }
            // The scalar input of a vector op (its lanes come from the low bits).
            // and the saturation flag of the saturating ones.
            opc if opc.flags().contains(OpFlags::VECTOR) => {
                outs.extend((0..opc.def().nb_oargs).map(|_| Type::I64));
                ins.extend((0..opc.def().nb_iargs).map(|_| Type::I64));
            }
            _ => {
                let d = op.opc.def();
                outs.extend((0..d.nb_oargs).map(|_| ty));
                ins.extend((0..d.nb_iargs).map(|_| ty));
            }
        }
        (outs, ins)
    }
}
