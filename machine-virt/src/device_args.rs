//! QEMU's `-drive`, `-device`, `-chardev` and `-netdev` options (given to `virt` as
//! `--drive SPEC` etc.) turned into the board's virtio devices, with every sub-option
//! either honoured or refused by name.
//!
//! Supported:
//! - `-drive if=none,id=ID,file=F[,format=raw][,readonly=on|off][,snapshot=on|off]
//!   [,cache=writeback|none|writethrough|directsync|unsafe][,media=disk]`, used by
//!   `-device virtio-blk-device,drive=ID[,serial=S][,id=..]`;
//! - `-drive file=F[,if=virtio]...` (virt's default interface is virtio): a
//!   virtio-blk-device of its own, after the `-device` ones (QEMU attaches it over PCI;
//!   the guest sees the same `/dev/vdX` disk through virtio-mmio here);
//! - `-device virtio-rng-device[,id=..]`;
//! - `-device virtio-serial-device[,id=..]` with `-device virtconsole,chardev=ID
//!   [,name=N][,nr=N][,id=..]` (ports of the last virtio-serial-device before them)
//!   and `-chardev stdio|null,id=ID` or `-chardev file,id=ID,path=F[,append=on]`:
//!   guest output only (the host's standard input stays with the UART);
//! - `-netdev user,id=ID[,hostfwd=[tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT]...` with
//!   `-device virtio-net-device,netdev=ID[,mac=MAC][,id=..]` (libslirp).
//!
//! The first device takes the highest virtio-mmio transport, as QEMU's virt does, so
//! Linux (which probes in address order) finds the last one first.

use std::collections::HashMap;
use std::sync::Arc;
use virtio_devices::blk::{CacheMode, Disk, DiskOptions};
use virtio_devices::{CharDev, DeviceSpec, PortConfig};

/// Splits a QEMU option string into `key=value` pairs (`,,` is a literal comma). A
/// first element without `=` is returned under `implied` (the driver or backend name).
fn parse_opts(spec: &str, implied: &str) -> Result<Vec<(String, String)>, String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' {
            if chars.peek() == Some(&',') {
                chars.next();
                cur.push(',');
            } else {
                parts.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    let mut out = Vec::new();
    for (i, p) in parts.into_iter().enumerate() {
        match p.split_once('=') {
            Some((k, v)) => out.push((k.to_string(), v.to_string())),
            None if i == 0 && !implied.is_empty() => out.push((implied.to_string(), p)),
            None if p.is_empty() => {}
            // A bare key is `key=on`.
            None => out.push((p, "on".to_string())),
        }
    }
    Ok(out)
}

fn on_off(opt: &str, k: &str, v: &str) -> Result<bool, String> {
    match v {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        _ => Err(format!("{opt} {k}={v}: expected on or off")),
    }
}

fn unknown(opt: &str, what: &str, keys: &[String], supported: &str) -> Result<(), String> {
    if keys.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{opt} {what}: unsupported propert{} {} (supported: {supported})",
        if keys.len() == 1 { "y" } else { "ies" },
        keys.join(", ")
    ))
}

struct Drive {
    id: Option<String>,
    iface: String,
    opts: DiskOptions,
    used: bool,
}

fn drive(spec: &str) -> Result<Drive, String> {
    let mut d = Drive {
        id: None,
        iface: "virtio".into(),
        opts: DiskOptions::default(),
        used: false,
    };
    let mut file = None;
    let mut bad = Vec::new();
    for (k, v) in parse_opts(spec, "")? {
        match k.as_str() {
            "if" => match v.as_str() {
                "none" | "virtio" => d.iface = v,
                _ => {
                    return Err(format!(
                        "-drive if={v} is not supported (if=none or if=virtio)"
                    ))
                }
            },
            "id" => d.id = Some(v),
            "file" => file = Some(v),
            "format" => {
                if v != "raw" {
                    return Err(format!(
                        "-drive format={v} is not supported: disk images are raw only"
                    ));
                }
            }
            "readonly" => d.opts.readonly = on_off("-drive", &k, &v)?,
            "snapshot" => d.opts.snapshot = on_off("-drive", &k, &v)?,
            "cache" => {
                d.opts.cache = CacheMode::from_name(&v).ok_or_else(|| {
                    format!(
                        "-drive cache={v}: expected writeback, none, writethrough, directsync \
                         or unsafe"
                    )
                })?
            }
            "media" => {
                if v != "disk" {
                    return Err(format!("-drive media={v} is not supported (media=disk)"));
                }
            }
            _ => bad.push(k),
        }
    }
    unknown(
        "-drive",
        spec,
        &bad,
        "if, id, file, format=raw, readonly, snapshot, cache, media=disk",
    )?;
    d.opts.path = file
        .filter(|f| !f.is_empty())
        .ok_or_else(|| format!("-drive {spec}: no file= given"))?
        .into();
    if d.iface == "none" && d.id.is_none() {
        return Err(format!("-drive {spec}: if=none needs an id="));
    }
    Ok(d)
}

/// `-chardev BACKEND,id=ID[,...]`: its id and backend.
fn chardev(spec: &str) -> Result<(String, CharDev), String> {
    let opts = parse_opts(spec, "backend")?;
    let mut backend = String::new();
    let mut id = None;
    let mut path = None;
    let mut append = false;
    let mut bad = Vec::new();
    for (k, v) in opts {
        match k.as_str() {
            "backend" => backend = v,
            "id" => id = Some(v),
            "path" => path = Some(v),
            "append" => append = on_off("-chardev", &k, &v)?,
            // Terminal handling of stdio: the output is the same either way.
            "signal" | "mux" | "logappend" => {}
            _ => bad.push(k),
        }
    }
    unknown(
        "-chardev",
        spec,
        &bad,
        "id, path, append (file), signal, mux",
    )?;
    let id = id.ok_or_else(|| format!("-chardev {spec}: id= is required"))?;
    let dev = match backend.as_str() {
        "stdio" => CharDev::Stdout,
        "null" => CharDev::Null,
        "file" => {
            let p = path.ok_or_else(|| format!("-chardev {spec}: path= is required"))?;
            let f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .append(append)
                .truncate(!append)
                .open(&p)
                .map_err(|e| format!("-chardev {spec}: cannot open {p}: {e}"))?;
            CharDev::File(Arc::new(f))
        }
        _ => {
            return Err(format!(
                "-chardev {backend} is not supported (supported: stdio, null, file)"
            ))
        }
    };
    Ok((id, dev))
}

/// `-netdev user,id=ID[,hostfwd=...]...`: the network started (its forwarded ports
/// bound).
fn netdev(spec: &str) -> Result<(String, Arc<virtio_devices::net::UserNet>), String> {
    let mut ty = String::new();
    let mut id = None;
    let mut fwd = Vec::new();
    let mut bad = Vec::new();
    for (k, v) in parse_opts(spec, "type")? {
        match k.as_str() {
            "type" => ty = v,
            "id" => id = Some(v),
            "hostfwd" => fwd
                .push(virtio_devices::net::HostFwd::parse(&v).map_err(|e| format!("-netdev {e}"))?),
            _ => bad.push(k),
        }
    }
    if ty != "user" {
        return Err(format!("-netdev {ty} is not supported (only -netdev user)"));
    }
    unknown("-netdev", spec, &bad, "id, hostfwd")?;
    let id = id.ok_or_else(|| format!("-netdev {spec}: id= is required"))?;
    let net = virtio_devices::net::UserNet::start(&fwd, crate::board::guest_error_logger())
        .map_err(|e| format!("-netdev {spec}: {e}"))?;
    Ok((id, net))
}

fn open(d: &DiskOptions) -> Result<Arc<Disk>, String> {
    Disk::open(d).map(Arc::new).map_err(|e| e.to_string())
}

/// The board's virtio devices from the options, in command-line order (the `-device`s,
/// then the `if=virtio` drives), disks opened.
pub fn plan(
    drives: &[String],
    devices: &[String],
    chardevs: &[String],
    netdevs: &[String],
) -> Result<Vec<DeviceSpec>, String> {
    let mut nets: HashMap<String, (Arc<virtio_devices::net::UserNet>, bool)> = HashMap::new();
    for spec in netdevs {
        let (id, net) = netdev(spec)?;
        if nets.insert(id.clone(), (net, false)).is_some() {
            return Err(format!("-netdev id={id} given twice"));
        }
    }
    let mut nics = 0u8;
    let mut chars: HashMap<String, (CharDev, bool)> = HashMap::new();
    for spec in chardevs {
        let (id, dev) = chardev(spec)?;
        if chars.insert(id.clone(), (dev, false)).is_some() {
            return Err(format!("-chardev id={id} given twice"));
        }
    }
    // Index in `out` of the last virtio-serial-device.
    let mut serial_dev: Option<usize> = None;
    let mut by_id: HashMap<String, Drive> = HashMap::new();
    let mut inline = Vec::new();
    for spec in drives {
        let d = drive(spec)?;
        if let Some(id) = d.id.clone() {
            if by_id.contains_key(&id) {
                return Err(format!("-drive id={id} given twice"));
            }
            if d.iface == "virtio" {
                inline.push(d.opts.clone());
            }
            by_id.insert(id, d);
        } else {
            inline.push(d.opts);
        }
    }
    let mut out = Vec::new();
    for spec in devices {
        let opts = parse_opts(spec, "driver")?;
        let driver = opts
            .iter()
            .find(|(k, _)| k == "driver")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let mut bad = Vec::new();
        match driver.as_str() {
            "virtio-rng-device" => {
                for (k, _) in &opts {
                    if !matches!(k.as_str(), "driver" | "id") {
                        bad.push(k.clone());
                    }
                }
                unknown("-device", spec, &bad, "id")?;
                out.push(DeviceSpec::Rng);
            }
            "virtio-blk-device" => {
                let mut drive_id = None;
                let mut serial = String::new();
                for (k, v) in &opts {
                    match k.as_str() {
                        "driver" | "id" => {}
                        "drive" => drive_id = Some(v.clone()),
                        "serial" => serial = v.clone(),
                        _ => bad.push(k.clone()),
                    }
                }
                unknown("-device", spec, &bad, "drive, serial, id")?;
                let id = drive_id.ok_or_else(|| format!("-device {spec}: drive= is required"))?;
                let d = by_id
                    .get_mut(&id)
                    .ok_or_else(|| format!("-device {spec}: no -drive with id={id}"))?;
                if d.used || d.iface != "none" {
                    return Err(format!(
                        "-device {spec}: drive {id} is already in use (if=none drives \
                         serve one device)"
                    ));
                }
                d.used = true;
                out.push(DeviceSpec::Blk {
                    disk: open(&d.opts)?,
                    serial,
                });
            }
            "virtio-serial-device" => {
                for (k, _) in &opts {
                    if !matches!(k.as_str(), "driver" | "id") {
                        bad.push(k.clone());
                    }
                }
                unknown("-device", spec, &bad, "id")?;
                serial_dev = Some(out.len());
                out.push(DeviceSpec::Console { ports: Vec::new() });
            }
            "virtconsole" => {
                let mut chardev_id = None;
                let mut name = None;
                let mut nr = None;
                for (k, v) in &opts {
                    match k.as_str() {
                        "driver" | "id" => {}
                        "chardev" => chardev_id = Some(v.clone()),
                        "name" => name = Some(v.clone()),
                        "nr" => {
                            nr = Some(
                                v.parse::<u32>()
                                    .ok()
                                    .filter(|&n| n < virtio_devices::console::MAX_PORTS)
                                    .ok_or_else(|| {
                                        format!(
                                            "-device {spec}: nr={v} is not a port number below {}",
                                            virtio_devices::console::MAX_PORTS
                                        )
                                    })?,
                            )
                        }
                        _ => bad.push(k.clone()),
                    }
                }
                unknown("-device", spec, &bad, "chardev, name, nr, id")?;
                let Some(DeviceSpec::Console { ports }) = serial_dev.and_then(|i| out.get_mut(i))
                else {
                    return Err(format!(
                        "-device {spec}: a virtconsole needs a -device virtio-serial-device before it"
                    ));
                };
                let cid =
                    chardev_id.ok_or_else(|| format!("-device {spec}: chardev= is required"))?;
                let (dev, used) = chars
                    .get_mut(&cid)
                    .ok_or_else(|| format!("-device {spec}: no -chardev with id={cid}"))?;
                if *used {
                    return Err(format!("-device {spec}: chardev {cid} is already in use"));
                }
                *used = true;
                let nr = match nr {
                    Some(n) => n,
                    None => (0..virtio_devices::console::MAX_PORTS)
                        .find(|n| ports.iter().all(|p| p.nr != *n))
                        .ok_or_else(|| format!("-device {spec}: no free port"))?,
                };
                if ports.iter().any(|p| p.nr == nr) {
                    return Err(format!("-device {spec}: port {nr} is already in use"));
                }
                ports.push(PortConfig {
                    nr,
                    name,
                    chardev: dev.clone(),
                });
            }
            "virtio-net-device" => {
                let mut netdev_id = None;
                let mut mac = None;
                for (k, v) in &opts {
                    match k.as_str() {
                        "driver" | "id" => {}
                        "netdev" => netdev_id = Some(v.clone()),
                        "mac" => {
                            mac = Some(virtio_devices::net::parse_mac(v).ok_or_else(|| {
                                format!("-device {spec}: mac={v} is not xx:xx:xx:xx:xx:xx")
                            })?)
                        }
                        _ => bad.push(k.clone()),
                    }
                }
                unknown("-device", spec, &bad, "netdev, mac, id")?;
                let nid =
                    netdev_id.ok_or_else(|| format!("-device {spec}: netdev= is required"))?;
                let (net, used) = nets
                    .get_mut(&nid)
                    .ok_or_else(|| format!("-device {spec}: no -netdev with id={nid}"))?;
                if *used {
                    return Err(format!("-device {spec}: netdev {nid} is already in use"));
                }
                *used = true;
                // QEMU's default: 52:54:00:12:34:56, then :57, ... for each NIC.
                let mut m = virtio_devices::net::DEFAULT_MAC;
                m[5] = m[5].wrapping_add(nics);
                nics = nics.wrapping_add(1);
                out.push(DeviceSpec::Net {
                    net: net.clone(),
                    mac: mac.unwrap_or(m),
                });
            }
            "virtserialport" => {
                return Err(format!("-device {driver} is not supported yet"));
            }
            "" => return Err(format!("-device {spec}: no device name")),
            _ => {
                return Err(format!(
                    "-device {driver} is not supported (supported: virtio-rng-device, \
                     virtio-blk-device, virtio-serial-device, virtconsole, virtio-net-device)"
                ))
            }
        }
    }
    for opts in inline {
        out.push(DeviceSpec::Blk {
            disk: open(&opts)?,
            serial: String::new(),
        });
    }
    if out.len() > crate::board::map::VIRTIO_COUNT {
        return Err(format!(
            "{} virtio devices: the virt board has {} virtio-mmio transports",
            out.len(),
            crate::board::map::VIRTIO_COUNT
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn options_split_like_qemu() {
        let o = parse_opts("virtio-blk-device,drive=d0,serial=a,,b", "driver").unwrap();
        assert_eq!(
            o,
            [
                ("driver".to_string(), "virtio-blk-device".to_string()),
                ("drive".into(), "d0".into()),
                ("serial".into(), "a,b".into())
            ]
        );
    }

    #[test]
    fn drives_and_devices() {
        let img = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(img.path(), [0u8; 4096]).unwrap();
        let f = img.path().to_str().unwrap();
        let plan1 = plan(
            &s(&[
                &format!("if=none,id=d0,file={f},format=raw,readonly=on,cache=unsafe"),
                &format!("file={f},if=virtio,snapshot=on"),
            ]),
            &s(&["virtio-rng-device", "virtio-blk-device,drive=d0,serial=x"]),
            &[],
            &[],
        )
        .unwrap();
        let names: Vec<&str> = plan1.iter().map(|d| d.name()).collect();
        assert_eq!(
            names,
            [
                "virtio-rng-device",
                "virtio-blk-device",
                "virtio-blk-device"
            ]
        );
        for (drives, devices, needle) in [
            (vec![format!("file={f},format=qcow2")], vec![], "raw only"),
            (
                vec![format!("file={f},aio=native")],
                vec![],
                "unsupported property aio",
            ),
            (vec![format!("if=scsi,file={f}")], vec![], "if=scsi"),
            (vec!["if=none,id=x".to_string()], vec![], "no file="),
            (
                vec!["file=/no/such/file.img".to_string()],
                vec![],
                "/no/such/file.img",
            ),
            (
                vec![],
                vec!["virtio-blk-device,drive=nope".to_string()],
                "no -drive with id=nope",
            ),
            (
                vec![format!("if=none,id=a,file={f}")],
                vec![
                    "virtio-blk-device,drive=a".into(),
                    "virtio-blk-device,drive=a".into(),
                ],
                "already in use",
            ),
            (
                vec![],
                vec!["virtio-rng-device,rng=r0".to_string()],
                "unsupported property rng",
            ),
            (
                vec![],
                vec!["e1000".to_string()],
                "-device e1000 is not supported",
            ),
        ] {
            let e = plan(&drives, &devices, &[], &[]).err().unwrap_or_default();
            assert!(e.contains(needle), "{drives:?} {devices:?}: {e}");
        }
        let log = tempfile::NamedTempFile::new().unwrap();
        let chardev = format!("file,id=c0,path={}", log.path().display());
        let p = plan(
            &[],
            &s(&[
                "virtio-serial-device",
                "virtconsole,chardev=c0,name=org.test",
            ]),
            &s(&[&chardev]),
            &[],
        )
        .unwrap();
        assert!(
            matches!(&p[..], [DeviceSpec::Console { ports }] if ports.len() == 1 && ports[0].nr == 0)
        );
        for (devices, chardevs, needle) in [
            (
                vec!["virtconsole,chardev=c0"],
                vec![chardev.as_str()],
                "needs a -device virtio-serial-device",
            ),
            (
                vec!["virtio-serial-device", "virtconsole,chardev=c9"],
                vec![chardev.as_str()],
                "no -chardev with id=c9",
            ),
            (
                vec![],
                vec!["socket,id=s,path=/tmp/x"],
                "-chardev socket is not supported",
            ),
            (vec![], vec!["stdio"], "id= is required"),
            (vec![], vec!["file,id=f"], "path= is required"),
        ] {
            let e = plan(&[], &s(&devices), &s(&chardevs), &[])
                .err()
                .unwrap_or_default();
            assert!(e.contains(needle), "{devices:?} {chardevs:?}: {e}");
        }
        let p = plan(
            &[],
            &s(&[
                "virtio-net-device,netdev=n0",
                "virtio-net-device,netdev=n1,mac=02:00:00:00:00:01",
            ]),
            &[],
            &s(&["user,id=n0", "user,id=n1"]),
        )
        .unwrap();
        let macs: Vec<[u8; 6]> = p
            .iter()
            .filter_map(|d| match d {
                DeviceSpec::Net { mac, .. } => Some(*mac),
                _ => None,
            })
            .collect();
        assert_eq!(
            macs,
            [[0x52, 0x54, 0, 0x12, 0x34, 0x56], [2, 0, 0, 0, 0, 1]]
        );
        for (devices, netdevs, needle) in [
            (vec![], vec!["tap,id=t0"], "-netdev tap is not supported"),
            (
                vec![],
                vec!["user,id=n,restrict=on"],
                "unsupported property restrict",
            ),
            (
                vec![],
                vec!["user,id=n,hostfwd=tcp::x-:1"],
                "hostfwd=tcp::x-:1",
            ),
            (
                vec!["virtio-net-device,netdev=zz"],
                vec!["user,id=n"],
                "no -netdev with id=zz",
            ),
            (
                vec!["virtio-net-device,netdev=n,mac=1:2"],
                vec!["user,id=n"],
                "mac=1:2",
            ),
        ] {
            let e = plan(&[], &s(&devices), &[], &s(&netdevs))
                .err()
                .unwrap_or_default();
            assert!(e.contains(needle), "{devices:?} {netdevs:?}: {e}");
        }
    }
}
