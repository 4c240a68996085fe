//! Loading guest images into RAM: ELF64 executables (segments at their physical
//! addresses).

use softmmu::{PhysAddr, PhysMap};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    NotElf,
    Unsupported(String),
    Truncated(String),
    OutsideRam { addr: u64, len: u64 },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotElf => f.write_str("not an ELF file (bad magic)"),
            LoadError::Unsupported(m) => write!(f, "unsupported ELF: {m}"),
            LoadError::Truncated(m) => write!(f, "truncated or malformed ELF: {m}"),
            LoadError::OutsideRam { addr, len } => {
                write!(
                    f,
                    "segment at physical {addr:#x} (size {len:#x}) is not inside guest RAM"
                )
            }
        }
    }
}

impl std::error::Error for LoadError {}

fn u16le(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u32le(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn u64le(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

pub fn is_elf(data: &[u8]) -> bool {
    data.starts_with(b"\x7fELF")
}

/// What a loaded image tells the boot code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub entry: u64,
    /// Highest physical address used (end of the last segment).
    pub end: u64,
}

/// Loads an AArch64 ELF64 little-endian executable's PT_LOAD segments at their physical
/// addresses (zero-filling bss).
pub fn load_elf(data: &[u8], mem: &PhysMap) -> Result<Loaded, LoadError> {
    let t = |m: &str| LoadError::Truncated(m.to_string());
    if !is_elf(data) {
        return Err(LoadError::NotElf);
    }
    if data.get(4) != Some(&2) {
        return Err(LoadError::Unsupported("not ELF64".into()));
    }
    if data.get(5) != Some(&1) {
        return Err(LoadError::Unsupported("not little-endian".into()));
    }
    let machine = u16le(data, 18).ok_or_else(|| t("header"))?;
    if machine != 183 {
        return Err(LoadError::Unsupported(format!(
            "machine {machine} is not AArch64 (183)"
        )));
    }
    let entry = u64le(data, 24).ok_or_else(|| t("header"))?;
    let phoff = u64le(data, 32).ok_or_else(|| t("header"))? as usize;
    let phentsize = u16le(data, 54).ok_or_else(|| t("header"))? as usize;
    let phnum = u16le(data, 56).ok_or_else(|| t("header"))? as usize;
    if phentsize < 56 {
        return Err(t("program header entry size"));
    }
    let mut end = 0u64;
    let mut loaded_any = false;
    for i in 0..phnum {
        let ph = phoff
            .checked_add(
                i.checked_mul(phentsize)
                    .ok_or_else(|| t("program headers"))?,
            )
            .ok_or_else(|| t("program headers"))?;
        let ptype = u32le(data, ph).ok_or_else(|| t("program headers"))?;
        if ptype != 1 {
            continue;
        }
        let offset = u64le(data, ph + 8).ok_or_else(|| t("program headers"))?;
        let paddr = u64le(data, ph + 24).ok_or_else(|| t("program headers"))?;
        let filesz = u64le(data, ph + 32).ok_or_else(|| t("program headers"))?;
        let memsz = u64le(data, ph + 40).ok_or_else(|| t("program headers"))?;
        if filesz > memsz {
            return Err(t("segment file size larger than memory size"));
        }
        let bytes = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(filesz).ok())
            .and_then(|(o, n)| data.get(o..o.checked_add(n)?))
            .ok_or_else(|| t("segment extends past the end of the file"))?;
        let outside = LoadError::OutsideRam {
            addr: paddr,
            len: memsz,
        };
        mem.write_bytes(PhysAddr(paddr), bytes)
            .map_err(|_| outside.clone())?;
        let bss = memsz - filesz;
        if bss > 0 {
            let zeros = vec![0u8; usize::try_from(bss).map_err(|_| outside.clone())?];
            let at = paddr.checked_add(filesz).ok_or(outside.clone())?;
            mem.write_bytes(PhysAddr(at), &zeros)
                .map_err(|_| outside.clone())?;
        }
        end = end.max(paddr.saturating_add(memsz));
        loaded_any = true;
    }
    if !loaded_any {
        return Err(LoadError::Unsupported("no loadable segments".into()));
    }
    Ok(Loaded { entry, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ram() -> PhysMap {
        let mut m = PhysMap::new();
        m.add_ram("ram", PhysAddr(0x4000_0000), 0x10_0000).unwrap();
        m
    }

    /// A minimal ELF64 with one PT_LOAD segment.
    fn elf(paddr: u64, payload: &[u8], memsz: u64) -> Vec<u8> {
        let mut f = vec![0u8; 64 + 56];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[6] = 1;
        f[18..20].copy_from_slice(&183u16.to_le_bytes());
        f[24..32].copy_from_slice(&paddr.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&1u16.to_le_bytes());
        let ph = 64;
        f[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes());
        f[ph + 8..ph + 16].copy_from_slice(&120u64.to_le_bytes());
        f[ph + 24..ph + 32].copy_from_slice(&paddr.to_le_bytes());
        f[ph + 32..ph + 40].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        f[ph + 40..ph + 48].copy_from_slice(&memsz.to_le_bytes());
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn loads_segment_and_zeroes_bss() {
        let m = ram();
        m.write_bytes(PhysAddr(0x4000_1004), &[0xff; 4]).unwrap();
        let l = load_elf(&elf(0x4000_1000, &[1, 2, 3, 4], 8), &m).unwrap();
        assert_eq!(l.entry, 0x4000_1000);
        let mut b = [0u8; 8];
        m.read_bytes(PhysAddr(0x4000_1000), &mut b).unwrap();
        assert_eq!(b, [1, 2, 3, 4, 0, 0, 0, 0]);
    }

    #[test]
    fn rejects_garbage_truncation_and_outside_ram() {
        let m = ram();
        assert_eq!(load_elf(b"hello", &m), Err(LoadError::NotElf));
        let mut e = elf(0x4000_1000, &[1, 2, 3, 4], 4);
        e.truncate(100);
        assert!(matches!(load_elf(&e, &m), Err(LoadError::Truncated(_))));
        assert!(matches!(
            load_elf(&elf(0x1000, &[1], 1), &m),
            Err(LoadError::OutsideRam { .. })
        ));
    }
}
