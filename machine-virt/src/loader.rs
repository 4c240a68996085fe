//! Loading guest images into RAM: ELF64 executables (segments at their physical
//! addresses) and arm64 Linux `Image` files (the boot protocol's 64-byte header; plain or
//! gzip-compressed).

use softmmu::{PhysAddr, PhysMap};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    NotElf,
    Unsupported(String),
    Truncated(String),
    OutsideRam {
        addr: u64,
        len: u64,
    },
    /// Not an ELF and not an arm64 Image (nor gzip of one).
    UnknownFormat,
    BadImage(String),
    /// A zero-byte kernel file.
    Empty,
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
            LoadError::UnknownFormat => f.write_str(
                "neither an AArch64 ELF executable nor an arm64 Linux Image (plain or gzip)",
            ),
            LoadError::BadImage(m) => write!(f, "bad arm64 Image: {m}"),
            LoadError::Empty => f.write_str("the kernel file is empty"),
        }
    }
}

impl std::error::Error for LoadError {}

fn u16le(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(o..o.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn u32le(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(o..o.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn u64le(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(o..o.checked_add(8)?)?.try_into().ok()?,
    ))
}

pub fn is_elf(data: &[u8]) -> bool {
    data.starts_with(b"\x7fELF")
}

/// What a loaded image tells the boot code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub entry: u64,
    /// Lowest physical address used (start of the first segment).
    pub start: u64,
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
    let mut start = u64::MAX;
    let mut loaded_any = false;
    for i in 0..phnum {
        let ph = phoff
            .checked_add(
                i.checked_mul(phentsize)
                    .ok_or_else(|| t("program headers"))?,
            )
            .filter(|&ph| ph < data.len())
            .ok_or_else(|| t("program headers"))?;
        // From here `ph + 56` cannot overflow: `ph` is an index into the file.
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
            let at = paddr.checked_add(filesz).ok_or(outside.clone())?;
            // Check the bss fits in RAM before allocating its zeros: memsz is the file's
            // word (fuzz finding: a huge one aborted the host on allocation).
            mem.ram_ptr(PhysAddr(at), bss).ok_or(outside.clone())?;
            let zeros = vec![0u8; usize::try_from(bss).map_err(|_| outside.clone())?];
            mem.write_bytes(PhysAddr(at), &zeros)
                .map_err(|_| outside.clone())?;
        }
        end = end.max(paddr.saturating_add(memsz));
        start = start.min(paddr);
        loaded_any = true;
    }
    if !loaded_any {
        return Err(LoadError::Unsupported("no loadable segments".into()));
    }
    Ok(Loaded { entry, start, end })
}

/// The arm64 Image header magic, "ARM\x64", at offset 56.
pub const IMAGE_MAGIC: u32 = 0x644d_5241;
const TWO_MIB: u64 = 2 << 20;

/// The fields of an arm64 Image header the loader uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageHeader {
    pub text_offset: u64,
    pub image_size: u64,
    pub flags: u64,
}

pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&[0x1f, 0x8b])
}

pub fn parse_image_header(data: &[u8]) -> Option<ImageHeader> {
    if u32le(data, 56)? != IMAGE_MAGIC {
        return None;
    }
    Some(ImageHeader {
        text_offset: u64le(data, 8)?,
        image_size: u64le(data, 16)?,
        flags: u64le(data, 24)?,
    })
}

/// Decompresses a gzip file, refusing output larger than `limit` bytes.
pub fn gunzip(data: &[u8], limit: u64) -> Result<Vec<u8>, LoadError> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| LoadError::BadImage(format!("gzip: {e}")))?;
    if out.len() as u64 > limit {
        return Err(LoadError::BadImage(
            "decompressed kernel is larger than guest RAM".into(),
        ));
    }
    Ok(out)
}

/// Where an Image went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedImage {
    pub entry: u64,
    /// First byte after the kernel's memory footprint (image_size: bss included).
    pub end: u64,
}

/// Loads an (uncompressed) arm64 Image per the boot protocol: at a 2 MiB-aligned address
/// plus text_offset. The first 2 MiB of RAM stay free for the device tree.
pub fn load_image(
    data: &[u8],
    mem: &PhysMap,
    ram_base: u64,
    ram_size: u64,
) -> Result<LoadedImage, LoadError> {
    let h = parse_image_header(data).ok_or(LoadError::UnknownFormat)?;
    if h.flags & 1 != 0 {
        return Err(LoadError::BadImage(
            "big-endian kernels are not supported".into(),
        ));
    }
    if h.text_offset % 4096 != 0 || h.text_offset >= TWO_MIB * 64 {
        return Err(LoadError::BadImage(format!(
            "implausible text_offset {:#x}",
            h.text_offset
        )));
    }
    let entry = ram_base + TWO_MIB + h.text_offset;
    // image_size 0 means an old kernel that does not say: assume the file plus slack.
    let footprint = if h.image_size == 0 {
        data.len() as u64 + TWO_MIB * 8
    } else {
        h.image_size.max(data.len() as u64)
    };
    // A header's image_size can be anything: a sum past the address space does not fit.
    let Some(end) = entry
        .checked_add(footprint)
        .filter(|&e| e <= ram_base.saturating_add(ram_size))
    else {
        return Err(LoadError::OutsideRam {
            addr: entry,
            len: footprint,
        });
    };
    mem.write_bytes(PhysAddr(entry), data)
        .map_err(|_| LoadError::OutsideRam {
            addr: entry,
            len: footprint,
        })?;
    Ok(LoadedImage { entry, end })
}

/// Where QEMU loads a raw image (neither ELF nor arm64 Image): RAM base + 512 KiB, the
/// arm64 Image's historical text_offset.
pub const RAW_LOAD_OFFSET: u64 = 0x8_0000;

/// Loads a raw image: the file's bytes at `ram_base` + [`RAW_LOAD_OFFSET`], entered at
/// its first byte; its footprint is the file (nothing says how much bss follows).
pub fn load_raw(
    data: &[u8],
    mem: &PhysMap,
    ram_base: u64,
    ram_size: u64,
) -> Result<LoadedImage, LoadError> {
    if data.is_empty() {
        return Err(LoadError::Empty);
    }
    let entry = ram_base + RAW_LOAD_OFFSET;
    let len = data.len() as u64;
    let outside = LoadError::OutsideRam { addr: entry, len };
    if entry + len > ram_base + ram_size {
        return Err(outside);
    }
    mem.write_bytes(PhysAddr(entry), data)
        .map_err(|_| outside)?;
    Ok(LoadedImage {
        entry,
        end: entry + len,
    })
}

/// Where the initrd and the device tree of a Linux-style boot (Image or raw image) go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootLayout {
    pub initrd: u64,
    pub dtb: u64,
}

/// QEMU's layout: the initrd at 128 MiB into RAM (half of RAM if that is smaller), but
/// never below the end of the kernel's memory (`image_end`, bss included), page
/// aligned; the device tree after the initrd, 2 MiB aligned (Linux maps the 2 MiB
/// block around it early). Errors if either does not fit in RAM.
pub fn boot_layout(
    ram_base: u64,
    ram_size: u64,
    image_end: u64,
    initrd_len: u64,
    dtb_len: u64,
) -> Result<BootLayout, LoadError> {
    // Checked arithmetic: a sum past the top of the address space does not fit either.
    let ram_end = ram_base.saturating_add(ram_size);
    let initrd = ram_base
        .saturating_add((ram_size / 2).min(128 << 20))
        .max(image_end)
        .checked_next_multiple_of(4096)
        .unwrap_or(u64::MAX);
    let initrd_end = initrd.checked_add(initrd_len).filter(|&e| e <= ram_end);
    let Some(initrd_end) = initrd_end else {
        return Err(LoadError::OutsideRam {
            addr: initrd,
            len: initrd_len,
        });
    };
    let dtb = initrd_end
        .checked_next_multiple_of(TWO_MIB)
        .unwrap_or(u64::MAX);
    if dtb.checked_add(dtb_len).is_none_or(|e| e > ram_end) {
        return Err(LoadError::OutsideRam {
            addr: dtb,
            len: dtb_len,
        });
    }
    Ok(BootLayout { initrd, dtb })
}

/// Where a bare-metal ELF's device tree goes: the start of RAM, if the tree fits below
/// the ELF's lowest segment or the ELF lies wholly below RAM (QEMU's rule; else none).
pub fn elf_dtb_addr(ram_base: u64, elf: &Loaded, dtb_len: u64) -> Option<u64> {
    let fits_below = elf.start >= ram_base && elf.start - ram_base >= dtb_len;
    (fits_below || elf.end <= ram_base).then_some(ram_base)
}

/// A minimal AArch64 ELF64 executable: one PT_LOAD segment of `payload` at physical (and
/// virtual) address `addr`, `memsz` bytes in memory (the rest zero-filled), entry at
/// `addr`. For tests, benches and tools that need a guest without a cross toolchain.
pub fn minimal_elf(addr: u64, payload: &[u8], memsz: u64) -> Vec<u8> {
    let mut f = vec![0u8; 64 + 56];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // ELFCLASS64
    f[5] = 1; // little-endian
    f[6] = 1; // EV_CURRENT
    f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f[18..20].copy_from_slice(&183u16.to_le_bytes()); // EM_AARCH64
    f[24..32].copy_from_slice(&addr.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&1u16.to_le_bytes());
    let ph = 64;
    f[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    f[ph + 8..ph + 16].copy_from_slice(&120u64.to_le_bytes());
    f[ph + 16..ph + 24].copy_from_slice(&addr.to_le_bytes());
    f[ph + 24..ph + 32].copy_from_slice(&addr.to_le_bytes());
    f[ph + 32..ph + 40].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    f[ph + 40..ph + 48].copy_from_slice(&memsz.max(payload.len() as u64).to_le_bytes());
    f.extend_from_slice(payload);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzz finding (loaders target): an image end or lengths near the top of the address
    /// space overflowed the layout arithmetic (a panic with overflow checks, a wrapped
    /// "fits" without).
    /// Fuzz finding (loaders target): a program header offset near `usize::MAX`
    /// overflowed the bounds arithmetic of the field reads.
    #[test]
    fn elf_with_program_headers_at_the_end_of_the_address_space_is_an_error() {
        let mut elf = minimal_elf(0x4008_0000, &[0; 16], 16);
        // e_phoff (offset 32) = usize::MAX - 3.
        elf[32..40].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
        let mut m = PhysMap::new();
        m.add_ram("ram", softmmu::PhysAddr(0x4000_0000), 0x10_0000)
            .unwrap();
        assert!(load_elf(&elf, &m).is_err());
        assert_eq!(u32le(&[1, 2, 3, 4], usize::MAX - 1), None);
    }

    /// Fuzz finding (loaders target): an Image header with image_size near `u64::MAX`
    /// overflowed the end of the kernel's footprint.
    #[test]
    fn image_with_a_huge_image_size_is_outside_ram() {
        let mut img = vec![0u8; 64];
        img[56..60].copy_from_slice(b"ARM\x64");
        img[16..24].copy_from_slice(&(u64::MAX - 0x1000).to_le_bytes());
        let mut m = PhysMap::new();
        m.add_ram("ram", softmmu::PhysAddr(0x4000_0000), 0x100_0000)
            .unwrap();
        assert!(parse_image_header(&img).is_some(), "a valid header");
        assert!(matches!(
            load_image(&img, &m, 0x4000_0000, 0x100_0000),
            Err(LoadError::OutsideRam { .. })
        ));
    }

    /// Fuzz finding (loaders target): a segment whose bss (memsz - filesz) is far larger
    /// than RAM made the loader allocate that many zero bytes (host abort).
    #[test]
    fn elf_with_a_bss_larger_than_ram_is_an_error_not_an_allocation() {
        let elf = minimal_elf(0x4008_0000, &[0; 16], 1 << 50);
        let mut m = PhysMap::new();
        m.add_ram("ram", softmmu::PhysAddr(0x4000_0000), 0x10_0000)
            .unwrap();
        assert!(matches!(
            load_elf(&elf, &m),
            Err(LoadError::OutsideRam { .. })
        ));
    }

    #[test]
    fn boot_layout_rejects_overflowing_sizes() {
        let (base, size) = (0x4000_0000, 0x2000_0000);
        assert!(boot_layout(base, size, u64::MAX - 10, 0, 0).is_err());
        assert!(boot_layout(base, size, 0, u64::MAX - 0x1000, 0x2000).is_err());
        assert!(boot_layout(base, size, 0, 0x1000, u64::MAX).is_err());
        let l = boot_layout(base, size, 0, 0x1000, 0x2000).unwrap();
        assert_eq!((l.initrd, l.dtb), (base + (128 << 20), base + (130 << 20)));
    }

    fn ram() -> PhysMap {
        let mut m = PhysMap::new();
        m.add_ram("ram", PhysAddr(0x4000_0000), 0x10_0000).unwrap();
        m
    }

    #[test]
    fn loads_segment_and_zeroes_bss() {
        let m = ram();
        m.write_bytes(PhysAddr(0x4000_1004), &[0xff; 4]).unwrap();
        let l = load_elf(&minimal_elf(0x4000_1000, &[1, 2, 3, 4], 8), &m).unwrap();
        assert_eq!(l.entry, 0x4000_1000);
        let mut b = [0u8; 8];
        m.read_bytes(PhysAddr(0x4000_1000), &mut b).unwrap();
        assert_eq!(b, [1, 2, 3, 4, 0, 0, 0, 0]);
    }

    #[test]
    fn image_goes_to_2mib_plus_text_offset_and_gzip_round_trips() {
        let m = ram();
        let mut img = vec![0u8; 4096];
        img[8..16].copy_from_slice(&0x1000u64.to_le_bytes());
        img[16..24].copy_from_slice(&0x8000u64.to_le_bytes());
        img[24..32].copy_from_slice(&0xau64.to_le_bytes());
        img[56..60].copy_from_slice(&IMAGE_MAGIC.to_le_bytes());
        img[100] = 0x5a;
        let l = load_image(&img, &m, 0x4000_0000, 0x10_0000 * 4).unwrap_err();
        assert!(
            matches!(l, LoadError::OutsideRam { .. }),
            "1 MiB of RAM cannot hold it"
        );
        let mut big = PhysMap::new();
        big.add_ram("ram", PhysAddr(0x4000_0000), 8 << 20).unwrap();
        let l = load_image(&img, &big, 0x4000_0000, 8 << 20).unwrap();
        assert_eq!(l.entry, 0x4020_1000);
        assert_eq!(l.end, 0x4020_9000, "entry + image_size");
        let mut b = [0u8; 1];
        big.read_bytes(PhysAddr(0x4020_1000 + 100), &mut b).unwrap();
        assert_eq!(b[0], 0x5a);
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&img).unwrap();
        let z = gz.finish().unwrap();
        assert!(is_gzip(&z));
        assert_eq!(gunzip(&z, 1 << 20).unwrap(), img);
        assert!(gunzip(&z, 100).is_err(), "size limit");
        assert!(gunzip(&z[..20], 1 << 20).is_err(), "truncated");
    }

    #[test]
    fn raw_image_goes_to_512k_into_ram() {
        let m = ram();
        let mut big = PhysMap::new();
        big.add_ram("ram", PhysAddr(0x4000_0000), 8 << 20).unwrap();
        let l = load_raw(&[1, 2, 3], &big, 0x4000_0000, 8 << 20).unwrap();
        assert_eq!(l.entry, 0x4008_0000);
        assert_eq!(l.end, 0x4008_0003);
        let mut b = [0u8; 3];
        big.read_bytes(PhysAddr(0x4008_0000), &mut b).unwrap();
        assert_eq!(b, [1, 2, 3]);
        assert_eq!(
            load_raw(&[], &m, 0x4000_0000, 0x10_0000),
            Err(LoadError::Empty)
        );
        assert!(matches!(
            load_raw(&vec![0; 0x8_0001], &m, 0x4000_0000, 0x10_0000),
            Err(LoadError::OutsideRam { .. })
        ));
    }

    /// Neither range may overlap the kernel's memory or each other.
    fn assert_disjoint(l: BootLayout, image: (u64, u64), initrd_len: u64, dtb_len: u64) {
        let ranges = [
            image,
            (l.initrd, l.initrd + initrd_len),
            (l.dtb, l.dtb + dtb_len),
        ];
        for (i, a) in ranges.iter().enumerate() {
            for b in &ranges[i + 1..] {
                assert!(a.1 <= b.0 || b.1 <= a.0, "{a:x?} overlaps {b:x?} in {l:x?}");
            }
        }
    }

    #[test]
    fn boot_layout_is_qemus_and_never_overlaps_the_image() {
        const RAM: u64 = 0x4000_0000;
        // QEMU with 512 MiB, no initrd: the tree at RAM + 128 MiB.
        let l = boot_layout(RAM, 512 << 20, RAM + 0x80000 + 3489, 0, 1 << 20).unwrap();
        assert_eq!(
            l,
            BootLayout {
                initrd: 0x4800_0000,
                dtb: 0x4800_0000
            }
        );
        // 128 MiB: half of RAM; the tree after the initrd, 2 MiB aligned.
        let l = boot_layout(RAM, 128 << 20, RAM + 0x10_0000, 0x2590, 1 << 20).unwrap();
        assert_eq!(
            l,
            BootLayout {
                initrd: 0x4400_0000,
                dtb: 0x4420_0000
            }
        );
        // A kernel whose image_size (bss) reaches past 128 MiB pushes both up.
        let image = (RAM + 0x20_0000, RAM + 0x20_0000 + (200 << 20) + 5);
        let l = boot_layout(RAM, 1 << 30, image.1, 12345, 1 << 20).unwrap();
        assert_eq!(l.initrd, (image.1).next_multiple_of(4096));
        assert_eq!(l.dtb % (2 << 20), 0);
        assert_disjoint(l, image, 12345, 1 << 20);
        // A big initrd: the tree goes after it.
        let l = boot_layout(RAM, 1 << 30, RAM + (34 << 20), 210 << 20, 1 << 20).unwrap();
        assert_disjoint(l, (RAM + (2 << 20), RAM + (34 << 20)), 210 << 20, 1 << 20);
        // Too little RAM is an error, not an overlap.
        assert!(boot_layout(RAM, 64 << 20, RAM + (60 << 20), 8 << 20, 1 << 20).is_err());
        assert!(boot_layout(RAM, 64 << 20, RAM + (63 << 20), 0, 1 << 20).is_err());
    }

    #[test]
    fn elf_dtb_goes_to_ram_base_only_when_it_fits_below_the_elf() {
        let elf = |start, end| Loaded {
            entry: start,
            start,
            end,
        };
        const RAM: u64 = 0x4000_0000;
        // QEMU's 1 MiB tree does not fit below an ELF at RAM + 512 KiB.
        assert_eq!(
            elf_dtb_addr(RAM, &elf(RAM + 0x8_0000, RAM + 0x9_0000), 1 << 20),
            None
        );
        assert_eq!(
            elf_dtb_addr(RAM, &elf(RAM + 0x8_0000, RAM + 0x9_0000), 0x8_0000),
            Some(RAM)
        );
        assert_eq!(
            elf_dtb_addr(RAM, &elf(RAM + (2 << 20), RAM + (3 << 20)), 1 << 20),
            Some(RAM)
        );
        assert_eq!(elf_dtb_addr(RAM, &elf(RAM, RAM + 0x1000), 16), None);
        assert_eq!(
            elf_dtb_addr(RAM, &elf(0x1000, 0x2000), 1 << 20),
            Some(RAM),
            "below RAM"
        );
    }

    #[test]
    fn rejects_garbage_truncation_and_outside_ram() {
        let m = ram();
        assert_eq!(load_elf(b"hello", &m), Err(LoadError::NotElf));
        let mut e = minimal_elf(0x4000_1000, &[1, 2, 3, 4], 4);
        e.truncate(100);
        assert!(matches!(load_elf(&e, &m), Err(LoadError::Truncated(_))));
        assert!(matches!(
            load_elf(&minimal_elf(0x1000, &[1], 1), &m),
            Err(LoadError::OutsideRam { .. })
        ));
    }
}
