//! The TCG-style intermediate representation between the A64 front end and the back ends.
//!
//! A translation block is a [`Func`]: typed temps (globals living in the CPU state at a
//! fixed offset from `env`, TB-locals, constants), labels and a list of [`Op`]s whose
//! opcodes are described by one table ([`opcodes`]). It prints and parses as text
//! ([`text`]), is checked by [`verify`], and is compiled by any [`Backend`].

pub mod backend;
pub mod builder;
pub mod func;
pub mod opcodes;
pub mod semantics;
pub mod text;
pub mod types;
pub mod vector;
pub mod verify;

pub use backend::{Backend, BackendError, CompiledTb, ExitCode, Helper, HelperFlags, IrSource};
pub use builder::Builder;
pub use func::{Func, Label, Op, Temp, TempData, TempKind};
pub use opcodes::{OpDef, OpFlags, Opc};
pub use types::{BarrierFlags, Cond, MemOp, MmuIdx, RmwOp, Type};
pub use vector::VecShape;
