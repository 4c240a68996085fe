//! The AArch64 architecture as GDB sees it: the registers of its `org.gnu.gdb.aarch64.core`
//! and `org.gnu.gdb.aarch64.fpu` features, in GDB's numbering (x0-x30 = 0-30, sp 31, pc 32,
//! cpsr 33, v0-v31 = 34-65, fpsr 66, fpcr 67), their `g`-packet layout, and the target
//! description announcing them.
//!
//! `gdbstub_arch` has an AArch64 definition too, but it announces every system register
//! (hundreds GDB would then ask for) and writes FPCR before FPSR in the `g` packet while
//! its description numbers FPSR first.

use arm_cpu::debug::Regs;
use gdbstub::arch::{Arch, RegId, Registers};
use std::num::NonZeroUsize;

/// AArch64 for `gdbstub`.
pub enum Aarch64 {}

impl Arch for Aarch64 {
    type Usize = u64;
    type Registers = CoreRegs;
    type BreakpointKind = usize;
    type RegId = Reg;

    fn target_description_xml() -> Option<&'static str> {
        Some(TARGET_XML)
    }
}

/// One register, in GDB's numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    X(u8),
    Sp,
    Pc,
    Cpsr,
    V(u8),
    Fpsr,
    Fpcr,
}

impl Reg {
    /// Bytes in the register.
    pub fn size(self) -> usize {
        match self {
            Reg::X(_) | Reg::Sp | Reg::Pc => 8,
            Reg::Cpsr | Reg::Fpsr | Reg::Fpcr => 4,
            Reg::V(_) => 16,
        }
    }

    /// GDB's register number.
    pub fn number(self) -> usize {
        match self {
            Reg::X(n) => n as usize,
            Reg::Sp => 31,
            Reg::Pc => 32,
            Reg::Cpsr => 33,
            Reg::V(n) => 34 + n as usize,
            Reg::Fpsr => 66,
            Reg::Fpcr => 67,
        }
    }

    /// The register's value in `r`, little-endian, into `out` (its size); the bytes
    /// written.
    pub fn read(self, r: &Regs, out: &mut [u8]) -> usize {
        let mut put = |b: &[u8]| {
            let n = b.len().min(out.len());
            out[..n].copy_from_slice(&b[..n]);
            n
        };
        match self {
            Reg::X(n) => put(&r.x[n as usize % 31].to_le_bytes()),
            Reg::Sp => put(&r.sp.to_le_bytes()),
            Reg::Pc => put(&r.pc.to_le_bytes()),
            Reg::Cpsr => put(&r.cpsr.to_le_bytes()),
            Reg::V(n) => put(&r.v[n as usize % 32].to_le_bytes()),
            Reg::Fpsr => put(&r.fpsr.to_le_bytes()),
            Reg::Fpcr => put(&r.fpcr.to_le_bytes()),
        }
    }

    /// Sets the register in `r` from little-endian `val`; `false` if `val` is not the
    /// register's size.
    pub fn write(self, r: &mut Regs, val: &[u8]) -> bool {
        if val.len() != self.size() {
            return false;
        }
        let mut b16 = [0u8; 16];
        b16[..val.len()].copy_from_slice(val);
        let v = u128::from_le_bytes(b16);
        match self {
            Reg::X(n) => r.x[n as usize % 31] = v as u64,
            Reg::Sp => r.sp = v as u64,
            Reg::Pc => r.pc = v as u64,
            Reg::Cpsr => r.cpsr = v as u32,
            Reg::V(n) => r.v[n as usize % 32] = v,
            Reg::Fpsr => r.fpsr = v as u32,
            Reg::Fpcr => r.fpcr = v as u32,
        }
        true
    }
}

impl RegId for Reg {
    fn from_raw_id(id: usize) -> Option<(Self, Option<NonZeroUsize>)> {
        let r = match id {
            0..=30 => Reg::X(id as u8),
            31 => Reg::Sp,
            32 => Reg::Pc,
            33 => Reg::Cpsr,
            34..=65 => Reg::V((id - 34) as u8),
            66 => Reg::Fpsr,
            67 => Reg::Fpcr,
            _ => return None,
        };
        Some((r, NonZeroUsize::new(r.size())))
    }

    fn to_raw_id(&self) -> Option<usize> {
        Some(self.number())
    }
}

/// Every register, in GDB's order (that of the `g` packet).
pub fn all_regs() -> impl Iterator<Item = Reg> {
    (0..68).filter_map(|i| Reg::from_raw_id(i).map(|(r, _)| r))
}

/// The registers of the `g`/`G` packets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoreRegs(pub Regs);

impl Registers for CoreRegs {
    type ProgramCounter = u64;

    fn pc(&self) -> u64 {
        self.0.pc
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        let mut buf = [0u8; 16];
        for r in all_regs() {
            let n = r.read(&self.0, &mut buf);
            for b in &buf[..n] {
                write_byte(Some(*b));
            }
        }
    }

    fn gdb_deserialize(&mut self, bytes: &[u8]) -> Result<(), ()> {
        let mut rest = bytes;
        for r in all_regs() {
            let n = r.size();
            if rest.len() < n {
                return Err(());
            }
            let (v, tail) = rest.split_at(n);
            r.write(&mut self.0, v);
            rest = tail;
        }
        Ok(())
    }
}

/// The target description: GDB's standard AArch64 core and FP/SIMD features (register
/// names and numbers as GDB's documentation of the AArch64 features gives them), with
/// types so that `cpsr` shows its flags and `v0`-`v31` their lanes.
pub const TARGET_XML: &str = r#"<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
  <architecture>aarch64</architecture>
  <feature name="org.gnu.gdb.aarch64.core">
    <flags id="pstate" size="4">
      <field name="SP" start="0" end="0"/>
      <field name="EL" start="2" end="3"/>
      <field name="F" start="6" end="6"/>
      <field name="I" start="7" end="7"/>
      <field name="A" start="8" end="8"/>
      <field name="D" start="9" end="9"/>
      <field name="V" start="28" end="28"/>
      <field name="C" start="29" end="29"/>
      <field name="Z" start="30" end="30"/>
      <field name="N" start="31" end="31"/>
    </flags>
    <reg name="x0" bitsize="64" regnum="0"/>
    <reg name="x1" bitsize="64"/>
    <reg name="x2" bitsize="64"/>
    <reg name="x3" bitsize="64"/>
    <reg name="x4" bitsize="64"/>
    <reg name="x5" bitsize="64"/>
    <reg name="x6" bitsize="64"/>
    <reg name="x7" bitsize="64"/>
    <reg name="x8" bitsize="64"/>
    <reg name="x9" bitsize="64"/>
    <reg name="x10" bitsize="64"/>
    <reg name="x11" bitsize="64"/>
    <reg name="x12" bitsize="64"/>
    <reg name="x13" bitsize="64"/>
    <reg name="x14" bitsize="64"/>
    <reg name="x15" bitsize="64"/>
    <reg name="x16" bitsize="64"/>
    <reg name="x17" bitsize="64"/>
    <reg name="x18" bitsize="64"/>
    <reg name="x19" bitsize="64"/>
    <reg name="x20" bitsize="64"/>
    <reg name="x21" bitsize="64"/>
    <reg name="x22" bitsize="64"/>
    <reg name="x23" bitsize="64"/>
    <reg name="x24" bitsize="64"/>
    <reg name="x25" bitsize="64"/>
    <reg name="x26" bitsize="64"/>
    <reg name="x27" bitsize="64"/>
    <reg name="x28" bitsize="64"/>
    <reg name="x29" bitsize="64"/>
    <reg name="x30" bitsize="64"/>
    <reg name="sp" bitsize="64" type="data_ptr"/>
    <reg name="pc" bitsize="64" type="code_ptr"/>
    <reg name="cpsr" bitsize="32" type="pstate"/>
  </feature>
  <feature name="org.gnu.gdb.aarch64.fpu">
    <vector id="lanes_d_f" type="ieee_double" count="2"/>
    <vector id="lanes_d_u" type="uint64" count="2"/>
    <vector id="lanes_d_s" type="int64" count="2"/>
    <vector id="lanes_s_f" type="ieee_single" count="4"/>
    <vector id="lanes_s_u" type="uint32" count="4"/>
    <vector id="lanes_s_s" type="int32" count="4"/>
    <vector id="lanes_h_u" type="uint16" count="8"/>
    <vector id="lanes_h_s" type="int16" count="8"/>
    <vector id="lanes_b_u" type="uint8" count="16"/>
    <vector id="lanes_b_s" type="int8" count="16"/>
    <vector id="lanes_q_u" type="uint128" count="1"/>
    <vector id="lanes_q_s" type="int128" count="1"/>
    <union id="as_d">
      <field name="f" type="lanes_d_f"/>
      <field name="u" type="lanes_d_u"/>
      <field name="s" type="lanes_d_s"/>
    </union>
    <union id="as_s">
      <field name="f" type="lanes_s_f"/>
      <field name="u" type="lanes_s_u"/>
      <field name="s" type="lanes_s_s"/>
    </union>
    <union id="as_h">
      <field name="u" type="lanes_h_u"/>
      <field name="s" type="lanes_h_s"/>
    </union>
    <union id="as_b">
      <field name="u" type="lanes_b_u"/>
      <field name="s" type="lanes_b_s"/>
    </union>
    <union id="as_q">
      <field name="u" type="lanes_q_u"/>
      <field name="s" type="lanes_q_s"/>
    </union>
    <union id="vreg">
      <field name="d" type="as_d"/>
      <field name="s" type="as_s"/>
      <field name="h" type="as_h"/>
      <field name="b" type="as_b"/>
      <field name="q" type="as_q"/>
    </union>
    <reg name="v0" bitsize="128" type="vreg" regnum="34"/>
    <reg name="v1" bitsize="128" type="vreg"/>
    <reg name="v2" bitsize="128" type="vreg"/>
    <reg name="v3" bitsize="128" type="vreg"/>
    <reg name="v4" bitsize="128" type="vreg"/>
    <reg name="v5" bitsize="128" type="vreg"/>
    <reg name="v6" bitsize="128" type="vreg"/>
    <reg name="v7" bitsize="128" type="vreg"/>
    <reg name="v8" bitsize="128" type="vreg"/>
    <reg name="v9" bitsize="128" type="vreg"/>
    <reg name="v10" bitsize="128" type="vreg"/>
    <reg name="v11" bitsize="128" type="vreg"/>
    <reg name="v12" bitsize="128" type="vreg"/>
    <reg name="v13" bitsize="128" type="vreg"/>
    <reg name="v14" bitsize="128" type="vreg"/>
    <reg name="v15" bitsize="128" type="vreg"/>
    <reg name="v16" bitsize="128" type="vreg"/>
    <reg name="v17" bitsize="128" type="vreg"/>
    <reg name="v18" bitsize="128" type="vreg"/>
    <reg name="v19" bitsize="128" type="vreg"/>
    <reg name="v20" bitsize="128" type="vreg"/>
    <reg name="v21" bitsize="128" type="vreg"/>
    <reg name="v22" bitsize="128" type="vreg"/>
    <reg name="v23" bitsize="128" type="vreg"/>
    <reg name="v24" bitsize="128" type="vreg"/>
    <reg name="v25" bitsize="128" type="vreg"/>
    <reg name="v26" bitsize="128" type="vreg"/>
    <reg name="v27" bitsize="128" type="vreg"/>
    <reg name="v28" bitsize="128" type="vreg"/>
    <reg name="v29" bitsize="128" type="vreg"/>
    <reg name="v30" bitsize="128" type="vreg"/>
    <reg name="v31" bitsize="128" type="vreg"/>
    <reg name="fpsr" bitsize="32" type="int"/>
    <reg name="fpcr" bitsize="32" type="int"/>
  </feature>
</target>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Regs {
        Regs {
            x: std::array::from_fn(|i| 0x1000 + i as u64),
            sp: 0x4008_0000,
            pc: 0x4008_1234,
            cpsr: 0x6000_03c5,
            v: std::array::from_fn(|i| (i as u128) << 64 | 0xabcd),
            fpsr: 0x1f,
            fpcr: 0x0040_0000,
        }
    }

    #[test]
    fn numbering_is_gdbs() {
        let regs: Vec<Reg> = all_regs().collect();
        assert_eq!(regs.len(), 68);
        for (i, r) in regs.iter().enumerate() {
            assert_eq!(r.number(), i);
            assert_eq!(
                Reg::from_raw_id(i).map(|(r, _)| r.to_raw_id()),
                Some(Some(i))
            );
        }
        assert_eq!(regs[30], Reg::X(30));
        assert_eq!(regs[31], Reg::Sp);
        assert_eq!(regs[33], Reg::Cpsr);
        assert_eq!(regs[65], Reg::V(31));
        assert_eq!(regs[66], Reg::Fpsr);
        assert_eq!(regs[67], Reg::Fpcr);
        assert_eq!(
            Reg::from_raw_id(34).and_then(|(_, n)| n).map(|n| n.get()),
            Some(16)
        );
        assert!(Reg::from_raw_id(68).is_none());
        assert!(Reg::from_raw_id(0x8000).is_none());
    }

    #[test]
    fn g_packet_layout() {
        let r = CoreRegs(sample());
        let mut bytes = Vec::new();
        r.gdb_serialize(|b| bytes.push(b.unwrap_or(0)));
        // 33 x 8 + 4 + 32 x 16 + 4 + 4
        assert_eq!(bytes.len(), 264 + 4 + 512 + 8);
        assert_eq!(&bytes[0..8], &0x1000u64.to_le_bytes());
        assert_eq!(&bytes[31 * 8..32 * 8], &0x4008_0000u64.to_le_bytes());
        assert_eq!(&bytes[32 * 8..33 * 8], &0x4008_1234u64.to_le_bytes());
        assert_eq!(&bytes[264..268], &0x6000_03c5u32.to_le_bytes());
        assert_eq!(
            &bytes[268 + 16..268 + 32],
            &(1u128 << 64 | 0xabcd).to_le_bytes()
        );
        // FPSR (66) before FPCR (67).
        assert_eq!(&bytes[780..784], &0x1fu32.to_le_bytes());
        assert_eq!(&bytes[784..788], &0x0040_0000u32.to_le_bytes());
        let mut back = CoreRegs::default();
        back.gdb_deserialize(&bytes).unwrap();
        assert_eq!(back, r);
        assert!(back.gdb_deserialize(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn single_registers() {
        let mut r = sample();
        let mut b = [0u8; 16];
        assert_eq!(Reg::Pc.read(&r, &mut b), 8);
        assert_eq!(&b[..8], &0x4008_1234u64.to_le_bytes());
        assert_eq!(Reg::Cpsr.read(&r, &mut b), 4);
        assert!(Reg::X(3).write(&mut r, &0xdeadu64.to_le_bytes()));
        assert_eq!(r.x[3], 0xdead);
        assert!(Reg::V(7).write(&mut r, &u128::MAX.to_le_bytes()));
        assert_eq!(r.v[7], u128::MAX);
        assert!(Reg::Fpcr.write(&mut r, &0x0300_0000u32.to_le_bytes()));
        assert_eq!(r.fpcr, 0x0300_0000);
        // A value of the wrong size changes nothing.
        assert!(!Reg::Sp.write(&mut r, &[1, 2, 3, 4]));
        assert_eq!(r.sp, 0x4008_0000);
    }

    #[test]
    fn description_names_every_register_once() {
        for r in all_regs() {
            let name = match r {
                Reg::X(n) => format!("x{n}"),
                Reg::Sp => "sp".into(),
                Reg::Pc => "pc".into(),
                Reg::Cpsr => "cpsr".into(),
                Reg::V(n) => format!("v{n}"),
                Reg::Fpsr => "fpsr".into(),
                Reg::Fpcr => "fpcr".into(),
            };
            let tag = format!("<reg name=\"{name}\" ");
            assert_eq!(TARGET_XML.matches(&tag).count(), 1, "{name}");
        }
        assert_eq!(TARGET_XML.matches("<reg ").count(), 68);
    }
}
