//! A flattened device tree as a tree of nodes: reading a user's `-dtb` file, patching it
//! the way QEMU does before boot, and writing it back.
//!
//! QEMU keeps a user tree as given except for `/memory`'s `reg` (set to the RAM it
//! really has), `/chosen`'s `bootargs` and `linux,initrd-*` (when there is a command
//! line or an initrd; `/chosen` is created if missing), and fresh random bytes in any
//! existing `rng-seed` / `kaslr-seed`. A property it adds goes first in its node and
//! a node it adds goes first among its siblings (libfdt's insertion order), which
//! guests that print the tree can see.

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
const HEADER_LEN: usize = 40;
/// Deeper trees are refused (writing is recursive; real trees are a few levels deep).
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    pub name: String,
    pub props: Vec<(String, Vec<u8>)>,
    pub children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// Memory reservation block: (address, size).
    pub reserve: Vec<(u64, u64)>,
    pub boot_cpuid: u32,
    pub root: Node,
}

fn be32(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(o..o.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn be64(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_be_bytes(
        b.get(o..o.checked_add(8)?)?.try_into().ok()?,
    ))
}
fn cstr(b: &[u8], o: usize) -> Option<&str> {
    let rest = b.get(o..)?;
    let n = rest.iter().position(|&c| c == 0)?;
    std::str::from_utf8(&rest[..n]).ok()
}

impl Node {
    pub fn prop(&self, name: &str) -> Option<&[u8]> {
        self.props
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Replaces the value in place, or adds the property first in the node.
    pub fn set_prop(&mut self, name: &str, value: Vec<u8>) {
        match self.props.iter_mut().find(|(n, _)| n == name) {
            Some(p) => p.1 = value,
            None => self.props.insert(0, (name.to_string(), value)),
        }
    }

    /// The child `name`, matching `name@unit` too when `name` has no unit address (as
    /// libfdt's path lookup does).
    pub fn child_mut(&mut self, name: &str) -> Option<&mut Node> {
        let i = self.children.iter().position(|c| {
            c.name == name || (!name.contains('@') && c.name.split('@').next() == Some(name))
        })?;
        self.children.get_mut(i)
    }

    fn cell(&self, name: &str) -> Option<u32> {
        self.prop(name).and_then(|v| be32(v, 0))
    }
}

/// Reads a device tree blob (version 16 or later).
pub fn parse(blob: &[u8]) -> Result<Tree, String> {
    let bad = |m: &str| format!("not a valid device tree blob: {m}");
    if be32(blob, 0) != Some(MAGIC) {
        return Err(bad("bad magic"));
    }
    let field = |i: usize| be32(blob, 4 * i).ok_or_else(|| bad("truncated header"));
    let total = field(1)? as usize;
    let off_struct = field(2)? as usize;
    let off_strings = field(3)? as usize;
    let off_rsv = field(4)? as usize;
    let version = field(5)?;
    let boot_cpuid = field(7)?;
    let strings_len = field(8)? as usize;
    if version < 16 {
        return Err(bad(&format!("version {version} is older than 16")));
    }
    if total > blob.len() {
        return Err(bad("header size is larger than the file"));
    }
    let blob = &blob[..total];
    let strings = off_strings
        .checked_add(strings_len)
        .and_then(|end| blob.get(off_strings..end))
        .ok_or_else(|| bad("strings block outside the blob"))?;

    let mut reserve = Vec::new();
    let mut o = off_rsv;
    loop {
        let (a, s) = be64(blob, o)
            .zip(be64(blob, o + 8))
            .ok_or_else(|| bad("memory reservation block runs off the end"))?;
        if a == 0 && s == 0 {
            break;
        }
        reserve.push((a, s));
        o += 16;
    }

    // Nodes being read: the last is the innermost open node.
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    let mut o = off_struct;
    loop {
        let tok = be32(blob, o).ok_or_else(|| bad("structure block runs off the end"))?;
        o += 4;
        match tok {
            BEGIN_NODE => {
                let name = cstr(blob, o).ok_or_else(|| bad("node name"))?;
                o = (o + name.len() + 1).next_multiple_of(4);
                if root.is_some() {
                    return Err(bad("more than one root node"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(bad("nodes nested too deeply"));
                }
                stack.push(Node {
                    name: name.to_string(),
                    ..Node::default()
                });
            }
            END_NODE => {
                let node = stack.pop().ok_or_else(|| bad("unbalanced end of node"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            PROP => {
                let len = be32(blob, o).ok_or_else(|| bad("property header"))? as usize;
                let nameoff = be32(blob, o + 4).ok_or_else(|| bad("property header"))? as usize;
                let value = blob
                    .get(o + 8..o + 8 + len)
                    .ok_or_else(|| bad("property value runs off the end"))?;
                let name = cstr(strings, nameoff).ok_or_else(|| bad("property name"))?;
                let node = stack
                    .last_mut()
                    .ok_or_else(|| bad("property outside a node"))?;
                node.props.push((name.to_string(), value.to_vec()));
                o = (o + 8 + len).next_multiple_of(4);
            }
            NOP => {}
            END => break,
            t => return Err(bad(&format!("unknown token {t:#x}"))),
        }
    }
    if !stack.is_empty() {
        return Err(bad("unterminated node"));
    }
    let root = root.ok_or_else(|| bad("no root node"))?;
    Ok(Tree {
        reserve,
        boot_cpuid,
        root,
    })
}

fn write_node(n: &Node, st: &mut Vec<u8>, strings: &mut Vec<u8>) {
    st.extend_from_slice(&BEGIN_NODE.to_be_bytes());
    st.extend_from_slice(n.name.as_bytes());
    st.push(0);
    st.resize(st.len().next_multiple_of(4), 0);
    for (name, value) in &n.props {
        let off = find_or_add(strings, name);
        st.extend_from_slice(&PROP.to_be_bytes());
        st.extend_from_slice(&(value.len() as u32).to_be_bytes());
        st.extend_from_slice(&(off as u32).to_be_bytes());
        st.extend_from_slice(value);
        st.resize(st.len().next_multiple_of(4), 0);
    }
    for c in &n.children {
        write_node(c, st, strings);
    }
    st.extend_from_slice(&END_NODE.to_be_bytes());
}

fn find_or_add(strings: &mut Vec<u8>, name: &str) -> usize {
    let mut at = 0;
    for s in strings.split(|&b| b == 0) {
        if s == name.as_bytes() && at < strings.len() {
            return at;
        }
        at += s.len() + 1;
    }
    let off = strings.len();
    strings.extend_from_slice(name.as_bytes());
    strings.push(0);
    off
}

impl Tree {
    /// The blob (version 17), its total size padded with free space to `min_size`.
    pub fn to_blob(&self, min_size: usize) -> Vec<u8> {
        let mut st = Vec::new();
        let mut strings = Vec::new();
        write_node(&self.root, &mut st, &mut strings);
        st.extend_from_slice(&END.to_be_bytes());
        let off_rsv = HEADER_LEN;
        let off_struct = off_rsv + 16 * (self.reserve.len() + 1);
        let off_strings = off_struct + st.len();
        let total = off_strings + strings.len();
        let mut b = Vec::with_capacity(total.max(min_size));
        for v in [
            MAGIC,
            total.max(min_size) as u32,
            off_struct as u32,
            off_strings as u32,
            off_rsv as u32,
            17,
            16,
            self.boot_cpuid,
            strings.len() as u32,
            st.len() as u32,
        ] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        for &(a, s) in self.reserve.iter().chain(&[(0, 0)]) {
            b.extend_from_slice(&a.to_be_bytes());
            b.extend_from_slice(&s.to_be_bytes());
        }
        b.extend_from_slice(&st);
        b.extend_from_slice(&strings);
        b.resize(total.max(min_size), 0);
        b
    }
}

/// Grows a blob's total size to `size` with free space at the end (QEMU's trees carry
/// room for later edits, and where a tree may go depends on its size).
pub fn pad(blob: Vec<u8>, size: usize) -> Vec<u8> {
    if blob.len() < size && blob.len() >= 8 {
        // A zeroed allocation (fresh pages the host zeroes when touched), not `resize`,
        // which writes every byte of the free space.
        let mut padded = vec![0u8; size];
        padded[..blob.len()].copy_from_slice(&blob);
        padded[4..8].copy_from_slice(&(size as u32).to_be_bytes());
        return padded;
    }
    blob
}

/// The bytes of a flattened tree's blocks (memory reservations, structure, strings),
/// without the free space after them: `blob.len()` if the header does not say.
pub fn used_len(blob: &[u8]) -> usize {
    let word = |at: usize| {
        blob.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let (Some(off_struct), Some(off_strings), Some(size_strings), Some(size_struct)) =
        (word(8), word(12), word(32), word(36))
    else {
        return blob.len();
    };
    // The reservation block ends with an all-zero entry somewhere before the structure.
    let end = (off_struct + size_struct).max(off_strings + size_strings);
    end.min(blob.len())
}

/// `value` as `cells` big-endian 32-bit cells, if it fits.
fn sized_cells(value: u64, cells: u32) -> Option<Vec<u8>> {
    match cells {
        1 => u32::try_from(value).ok().map(|v| v.to_be_bytes().to_vec()),
        2 => Some(value.to_be_bytes().to_vec()),
        _ => None,
    }
}

/// Fills a buffer with random bytes.
pub type RandomFill<'a> = &'a mut dyn FnMut(&mut [u8]);

/// What the board changes in a user's tree.
pub struct Patch<'a> {
    pub ram_base: u64,
    pub ram_size: u64,
    pub bootargs: Option<&'a str>,
    pub initrd: Option<(u64, u64)>,
    /// Fills the bytes of each existing `rng-seed` / `kaslr-seed` (None: left as given).
    pub random: Option<RandomFill<'a>>,
}

fn reseed(n: &mut Node, random: &mut dyn FnMut(&mut [u8])) {
    for (name, value) in &mut n.props {
        if name == "rng-seed" || name == "kaslr-seed" {
            random(value);
        }
    }
    for c in &mut n.children {
        reseed(c, random);
    }
}

/// Applies QEMU's changes to a user-supplied tree (see the module comment).
pub fn patch(tree: &mut Tree, p: Patch<'_>) -> Result<(), String> {
    let root = &mut tree.root;
    // The defaults of the device tree specification when the root does not say.
    let acells = root.cell("#address-cells").unwrap_or(2);
    let scells = root.cell("#size-cells").unwrap_or(1);
    let cells = |v: u64, n: u32, what: &str| {
        sized_cells(v, n)
            .ok_or_else(|| format!("the -dtb tree's {n} cell(s) per {what} cannot hold {v:#x}"))
    };
    let mut reg = cells(p.ram_base, acells, "address")?;
    reg.extend(cells(p.ram_size, scells, "size")?);
    root.child_mut("memory")
        .ok_or("the -dtb tree has no /memory node (QEMU needs one too)")?
        .set_prop("reg", reg);
    let start = p
        .initrd
        .map(|(s, _)| cells(s, acells, "address"))
        .transpose()?;
    let end = p
        .initrd
        .map(|(_, e)| cells(e, acells, "address"))
        .transpose()?;
    if root.child_mut("chosen").is_none() {
        root.children.insert(
            0,
            Node {
                name: "chosen".into(),
                ..Node::default()
            },
        );
    }
    let chosen = root
        .child_mut("chosen")
        .ok_or("cannot add /chosen to the -dtb tree")?;
    if let Some(args) = p.bootargs.filter(|a| !a.is_empty()) {
        let mut v = args.as_bytes().to_vec();
        v.push(0);
        chosen.set_prop("bootargs", v);
    }
    if let (Some(s), Some(e)) = (start, end) {
        chosen.set_prop("linux,initrd-start", s);
        chosen.set_prop("linux,initrd-end", e);
    }
    if let Some(r) = p.random {
        reseed(root, r);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Tree {
        let mut root = Node::default();
        root.props
            .push(("#address-cells".into(), 2u32.to_be_bytes().to_vec()));
        root.props
            .push(("#size-cells".into(), 2u32.to_be_bytes().to_vec()));
        root.children.push(Node {
            name: "memory@40000000".into(),
            props: vec![
                ("device_type".into(), b"memory\0".to_vec()),
                ("reg".into(), vec![0; 16]),
            ],
            children: vec![],
        });
        root.children.push(Node {
            name: "soc".into(),
            props: vec![("rng-seed".into(), vec![0; 4])],
            children: vec![Node {
                name: "uart@9000000".into(),
                props: vec![("compatible".into(), b"arm,pl011\0".to_vec())],
                children: vec![],
            }],
        });
        Tree {
            reserve: vec![(0x4000_0000, 0x1000)],
            boot_cpuid: 0,
            root,
        }
    }

    #[test]
    fn round_trips_and_pads() {
        let t = sample();
        let blob = t.to_blob(0);
        assert_eq!(parse(&blob), Ok(t.clone()));
        let padded = t.to_blob(1 << 20);
        assert_eq!(padded.len(), 1 << 20);
        assert_eq!(be32(&padded, 4), Some(1 << 20));
        assert_eq!(parse(&padded), Ok(t));
        let p = pad(blob.clone(), 4096);
        assert_eq!((p.len(), be32(&p, 4)), (4096, Some(4096)));
        assert_eq!(&p[8..blob.len()], &blob[8..], "content kept");
        // The blocks end where the unpadded blob did; the rest is zero.
        assert_eq!(used_len(&p), blob.len());
        assert_eq!(used_len(&blob), blob.len());
        assert!(p[blob.len()..].iter().all(|&b| b == 0));
    }

    #[test]
    fn generated_tree_parses() {
        let blob = crate::fdt::build(&crate::fdt::FdtConfig {
            ram_size: 512 << 20,
            ncpus: 2,
            gic_version: crate::board::GicVersion::V2,
            bootargs: Some("console=ttyAMA0"),
            initrd: None,
            cpu_compatible: "arm,cortex-a57",
            seeds: None,
        })
        .unwrap();
        let t = parse(&blob).unwrap();
        assert!(t.root.children.iter().any(|c| c.name == "chosen"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let blob = sample().to_blob(0);
        assert!(parse(b"").is_err());
        assert!(parse(&blob[..blob.len() - 1]).is_err(), "totalsize > file");
        for cut in (0..blob.len()).step_by(7) {
            let mut b = blob.clone();
            b[cut] ^= 0xff;
            let _ = parse(&b);
        }
        let mut deep = Node::default();
        for _ in 0..100 {
            deep = Node {
                name: "n".into(),
                children: vec![deep],
                ..Node::default()
            };
        }
        let t = Tree {
            reserve: vec![],
            boot_cpuid: 0,
            root: deep,
        };
        assert!(parse(&t.to_blob(0)).unwrap_err().contains("deeply"));
    }

    #[test]
    fn patch_does_what_qemu_does() {
        let mut t = sample();
        let mut n = 0u8;
        let mut rnd = |b: &mut [u8]| {
            n += 1;
            b.fill(n)
        };
        patch(
            &mut t,
            Patch {
                ram_base: 0x4000_0000,
                ram_size: 1 << 30,
                bootargs: Some("quiet"),
                initrd: Some((0x4800_0000, 0x4800_1000)),
                random: Some(&mut rnd),
            },
        )
        .unwrap();
        let mem = t.root.child_mut("memory").unwrap();
        assert_eq!(
            mem.prop("reg").unwrap(),
            &[0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0]
        );
        assert_eq!(t.root.children[0].name, "chosen", "added first");
        let chosen = &t.root.children[0];
        let names: Vec<&str> = chosen.props.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["linux,initrd-end", "linux,initrd-start", "bootargs"],
            "each added property goes first"
        );
        assert_eq!(chosen.prop("bootargs").unwrap(), b"quiet\0");
        assert_eq!(
            chosen.prop("linux,initrd-start").unwrap(),
            &0x4800_0000u64.to_be_bytes()
        );
        let soc = t.root.child_mut("soc").unwrap();
        assert_eq!(
            soc.prop("rng-seed").unwrap(),
            &[1, 1, 1, 1],
            "reseeded in place"
        );

        // No command line, no initrd: /chosen is left alone; an existing bootargs stays.
        let mut t = sample();
        t.root.children.push(Node {
            name: "chosen".into(),
            props: vec![("bootargs".into(), b"from dtb\0".to_vec())],
            children: vec![],
        });
        patch(
            &mut t,
            Patch {
                ram_base: 0x4000_0000,
                ram_size: 1 << 29,
                bootargs: Some(""),
                initrd: None,
                random: None,
            },
        )
        .unwrap();
        let chosen = t.root.child_mut("chosen").unwrap();
        assert_eq!(chosen.props.len(), 1);
        assert_eq!(chosen.prop("bootargs").unwrap(), b"from dtb\0");

        let mut t = sample();
        t.root.children.remove(0);
        let err = patch(
            &mut t,
            Patch {
                ram_base: 0x4000_0000,
                ram_size: 1 << 29,
                bootargs: None,
                initrd: None,
                random: None,
            },
        )
        .unwrap_err();
        assert!(err.contains("/memory"), "{err}");
    }
}
