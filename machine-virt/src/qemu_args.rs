//! QEMU's command-line syntax for the virt board, translated into `virt`'s own
//! `--long` flags before those are parsed, so that
//! `qemu-system-aarch64 -M virt -cpu cortex-a57 -kernel Image ...` runs unchanged as
//! `virt -M virt -cpu cortex-a57 -kernel Image ...`, mixed freely with `--long` flags.
//!
//! Every QEMU option is either translated, accepted because it asks for what `virt`
//! does anyway (`-nographic`, `-monitor none`, ...), or refused with an error naming it;
//! none is silently ignored.

/// The QEMU options this module knows, for `--help`.
pub const HELP: &str = "\
QEMU syntax (accepted unchanged, alongside the --long flags):
  -M|-machine virt[,gic-version=2|3|max|host][,its=off][,dtb-randomness=on|off][,dumpdtb=FILE]
  -cpu cortex-a57|cortex-a53|cortex-a72|max   -smp N[,cpus=N,maxcpus=N,sockets=..,cores=..,threads=..]
  -m SIZE|size=SIZE   -kernel FILE   -initrd FILE   -append CMDLINE   -dtb FILE
  -nographic   -display none   -monitor none   -serial stdio|mon:stdio|null|none|file:FILE
  -no-reboot   -accel tcg[,thread=single|multi]   -d ITEM,...|help   -D LOGFILE
  -drive if=none,id=ID,file=F[,format=raw][,readonly=on][,snapshot=on][,cache=MODE]
  -drive file=F[,if=virtio][,...]   -device virtio-blk-device,drive=ID[,serial=S]
  -global virtio-mmio.force-legacy=false
  -device virtio-rng-device   -device virtio-serial-device   -device virtconsole,chardev=ID
  -chardev stdio|null,id=ID   -chardev file,id=ID,path=F[,append=on]
  -netdev user,id=ID[,hostfwd=tcp::HOSTPORT-:GUESTPORT]   -device virtio-net-device,netdev=ID[,mac=M]
  -s   -gdb tcp::PORT|tcp:HOST:PORT   -S
With QEMU syntax (any single-dash option but -m) the RAM default is QEMU's 128 MiB.";

/// QEMU's default RAM size for the virt board.
const QEMU_DEFAULT_RAM: &str = "128M";

/// Translates `args` (without the program name). `takes_value(long)` says whether the
/// `--long` flag of `virt` named `long` takes a value (its value is then passed through
/// untouched even if it starts with a dash).
pub fn translate(
    args: &[String],
    takes_value: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut qemu_style = false;
    let mut ram_given = false;
    let mut serial_given = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if let Some(long) = arg.strip_prefix("--") {
            out.push(arg.clone());
            if long.is_empty() {
                // `--`: everything after it is positional for clap.
                out.extend(it.by_ref().cloned());
                break;
            }
            if long == "m" || long.starts_with("m=") {
                ram_given = true;
            }
            if !long.contains('=') && takes_value(long) {
                if let Some(v) = it.next() {
                    out.push(v.clone());
                }
            }
            continue;
        }
        let Some(opt) = arg.strip_prefix('-').filter(|o| !o.is_empty()) else {
            out.push(arg.clone());
            continue;
        };
        // clap's own short flags.
        if opt == "h" || opt == "V" {
            out.push(arg.clone());
            continue;
        }
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("option -{opt} needs a value"))
        };
        if opt != "m" {
            qemu_style = true;
        }
        match opt {
            "M" | "machine" => out.extend(machine(&value()?)?),
            "cpu" => out.extend(["--cpu".into(), cpu(&value()?)?]),
            "smp" => out.extend(["--smp".into(), smp(&value()?)?.to_string()]),
            "m" => {
                ram_given = true;
                out.extend(["-m".into(), memory(&value()?)?]);
            }
            "kernel" | "initrd" | "append" | "dtb" => {
                out.extend([format!("--{opt}"), value()?]);
            }
            "nographic" => {}
            "display" => match value()?.as_str() {
                "none" => {}
                v => {
                    return Err(format!(
                        "-display {v} is not supported (only -display none)"
                    ))
                }
            },
            "monitor" => match value()?.as_str() {
                "none" => {}
                v => {
                    return Err(format!(
                        "-monitor {v} is not supported (there is no monitor; use -monitor none)"
                    ))
                }
            },
            "serial" => {
                if serial_given {
                    return Err("-serial given twice: the virt board has one UART".into());
                }
                serial_given = true;
                out.extend(serial(&value()?)?);
            }
            "no-reboot" => out.push("--no-reboot".into()),
            "global" => global(&value()?)?,
            // Checked when the devices are built (`device_args`).
            "drive" | "device" | "chardev" | "netdev" => {
                out.extend([format!("--{opt}"), value()?]);
            }
            "accel" => out.extend(accel(&value()?)?),
            "d" => out.extend(log_items(&value()?)?),
            "D" => out.extend(["--log-file".into(), value()?]),
            "s" => out.extend(["--gdb".into(), format!("tcp::{}", gdb_stub::DEFAULT_PORT)]),
            "gdb" => {
                let v = value()?;
                gdb_stub::listen_address(&v).map_err(|e| format!("-gdb: {e}"))?;
                out.extend(["--gdb".into(), v]);
            }
            "S" => out.push("--halted".into()),
            "help" => out.push("--help".into()),
            "version" => out.push("--version".into()),
            _ => {
                return Err(format!(
                    "unknown or unsupported option -{opt} (see `virt --help` for the QEMU \
                     options virt accepts)"
                ))
            }
        }
    }
    if qemu_style && !ram_given {
        out.extend(["-m".into(), QEMU_DEFAULT_RAM.into()]);
    }
    Ok(out)
}

/// QEMU's boolean property values.
fn boolean(prop: &str, v: &str) -> Result<bool, String> {
    match v {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        _ => Err(format!("-machine {prop}={v}: expected on or off")),
    }
}

/// `-M virt[,prop=value...]`.
fn machine(spec: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut parts = spec.split(',');
    let first = parts.next().unwrap_or_default();
    let ty = first.strip_prefix("type=").unwrap_or(first);
    if ty != "virt" {
        return Err(format!(
            "-machine {ty}: only the `virt` machine is emulated"
        ));
    }
    let mut unknown = Vec::new();
    for p in parts {
        let (k, v) = p.split_once('=').unwrap_or((p, "on"));
        match k {
            "gic-version" => {
                crate::board::GicVersion::parse(v)
                    .map_err(|e| format!("-machine gic-version={v}: {e}"))?;
                out.extend(["--gic-version".into(), v.into()]);
            }
            // The GICv3 here has no ITS (QEMU's default is on).
            "its" => {
                if boolean(k, v)? {
                    return Err(
                        "-machine its=on is not supported (the GICv3 has no ITS; its=off)".into(),
                    );
                }
            }
            "dtb-randomness" | "dtb-kaslr-seed" => {
                if !boolean(k, v)? {
                    out.push("--no-dtb-randomness".into());
                }
            }
            "dumpdtb" => out.extend(["--dump-dtb".into(), v.into()]),
            "accel" => {
                accel(v)?;
            }
            // Off is what the board is: no EL3, no EL2.
            "secure" | "virtualization" => {
                if boolean(k, v)? {
                    return Err(format!("-machine {k}=on is not supported yet (EL1 only)"));
                }
            }
            _ => unknown.push(k),
        }
    }
    if !unknown.is_empty() {
        return Err(format!(
            "unsupported -machine propert{} {} (supported: gic-version, its=off, dtb-randomness, \
             dumpdtb, secure=off, virtualization=off)",
            if unknown.len() == 1 { "y" } else { "ies" },
            unknown.join(", ")
        ));
    }
    Ok(out)
}

fn cpu(spec: &str) -> Result<String, String> {
    let (name, props) = spec.split_once(',').unwrap_or((spec, ""));
    if !props.is_empty() {
        return Err(format!("-cpu {spec}: CPU properties are not supported"));
    }
    match crate::cpu_model::CpuModel::from_name(name) {
        Some(m) => Ok(m.name().into()),
        None => Err(format!(
            "-cpu {name} is not supported (supported: {})",
            crate::cpu_model::CpuModel::ALL.map(|m| m.name()).join(", ")
        )),
    }
}

/// `-smp N[,cpus=N][,maxcpus=N][,sockets=S][,dies=D][,clusters=C][,cores=C][,threads=T]`:
/// the number of CPUs (without `cpus`, the product of the topology, as QEMU).
fn smp(spec: &str) -> Result<usize, String> {
    let num = |k: &str, v: &str| {
        v.parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("-smp {k}={v}: not a positive number"))
    };
    let mut cpus = None;
    let mut maxcpus = None;
    let mut topology = 1usize;
    let mut any_topology = false;
    for (i, p) in spec.split(',').enumerate() {
        match p.split_once('=') {
            None if i == 0 => cpus = Some(num("cpus", p)?),
            None => return Err(format!("-smp {spec}: `{p}` is not key=value")),
            Some(("cpus", v)) => cpus = Some(num("cpus", v)?),
            Some(("maxcpus", v)) => maxcpus = Some(num("maxcpus", v)?),
            Some((k @ ("sockets" | "dies" | "clusters" | "cores" | "threads"), v)) => {
                topology = topology.saturating_mul(num(k, v)?);
                any_topology = true;
            }
            Some((k, _)) => return Err(format!("-smp: unknown property {k}")),
        }
    }
    let n = cpus
        .or(maxcpus)
        .or(any_topology.then_some(topology))
        .unwrap_or(1);
    if maxcpus.is_some_and(|m| m != n) {
        return Err("-smp maxcpus different from cpus (CPU hotplug) is not supported".into());
    }
    if any_topology && topology != n {
        return Err(format!(
            "-smp {spec}: the topology gives {topology} CPUs, not {n}"
        ));
    }
    Ok(n)
}

/// `-m SIZE` or `-m size=SIZE` (no memory hotplug).
fn memory(spec: &str) -> Result<String, String> {
    let mut size = None;
    for (i, p) in spec.split(',').enumerate() {
        match p.split_once('=') {
            None if i == 0 => size = Some(p),
            Some(("size", v)) => size = Some(v),
            Some((k @ ("slots" | "maxmem"), _)) => {
                return Err(format!("-m {k}=...: memory hotplug is not supported"))
            }
            _ => return Err(format!("-m {spec}: unknown property `{p}`")),
        }
    }
    size.map(str::to_string)
        .ok_or_else(|| format!("-m {spec}: no size"))
}

fn serial(spec: &str) -> Result<Vec<String>, String> {
    match spec {
        "stdio" | "mon:stdio" => Ok(vec![]),
        "null" | "none" => Ok(vec!["--serial".into(), "null".into()]),
        _ => match spec.strip_prefix("file:") {
            Some(f) if !f.is_empty() => Ok(vec!["--serial".into(), spec.into()]),
            _ => Err(format!(
                "-serial {spec} is not supported (supported: stdio, mon:stdio, null, none, file:FILE)"
            )),
        },
    }
}

/// `-global DRIVER.PROP=VALUE`: only `virtio-mmio.force-legacy=false` (what the
/// transports here are: QEMU's virtio-mmio is legacy, version 1, unless told so).
fn global(spec: &str) -> Result<(), String> {
    match spec {
        "virtio-mmio.force-legacy=false" | "virtio-mmio.force-legacy=off" => Ok(()),
        "virtio-mmio.force-legacy=true" | "virtio-mmio.force-legacy=on" => Err(
            "-global virtio-mmio.force-legacy=true: only the modern virtio-mmio layout \
             (version 2) is implemented"
                .into(),
        ),
        _ => Err(format!(
            "-global {spec} is not supported (only virtio-mmio.force-legacy=false)"
        )),
    }
}

/// `-accel tcg[,thread=single|multi][,split-wx=on|off][,tb-size=MiB]` as a scheduler, code
/// mapping and code buffer size.
fn accel(spec: &str) -> Result<Vec<String>, String> {
    let mut parts = spec.split(',');
    let name = parts.next().unwrap_or_default();
    if name != "tcg" {
        return Err(format!("-accel {name} is not supported (only tcg)"));
    }
    // QEMU's default for an AArch64 guest on a 64-bit host is multi-threaded TCG.
    let mut sched = "mttcg";
    let mut split_wx = false;
    let mut tb_size = None;
    for p in parts {
        match p.split_once('=') {
            Some(("thread", "single")) => sched = "rr",
            Some(("thread", "multi")) => sched = "mttcg",
            Some(("split-wx", v)) => {
                split_wx = boolean("split-wx", v)
                    .map_err(|_| format!("-accel tcg,split-wx={v}: expected on or off"))?
            }
            Some(("tb-size", v)) => {
                let n: u32 = v
                    .parse()
                    .map_err(|_| format!("-accel tcg,tb-size={v}: expected a size in MiB"))?;
                tb_size = Some(n);
            }
            _ => return Err(format!("-accel tcg: unsupported property `{p}`")),
        }
    }
    let mut out = vec!["--sched".to_string(), sched.to_string()];
    if split_wx {
        out.push("--split-wx".into());
    }
    if let Some(n) = tb_size {
        out.push("--tb-size".into());
        out.push(n.to_string());
    }
    Ok(out)
}

/// `-d item,item` (`-d help` is passed on for `virt` to print the list).
fn log_items(spec: &str) -> Result<Vec<String>, String> {
    if !vcpu_sched::trace::wants_help(spec) {
        vcpu_sched::trace::parse_items(spec)?;
    }
    Ok(vec!["--trace".into(), spec.into()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(args: &str) -> Result<Vec<String>, String> {
        let v: Vec<String> = args.split_whitespace().map(String::from).collect();
        translate(&v, &|l| {
            matches!(l, "kernel" | "append" | "smp" | "backend")
        })
    }

    fn ok(args: &str) -> String {
        tr(args).unwrap_or_else(|e| panic!("{args}: {e}")).join(" ")
    }

    fn err(args: &str) -> String {
        tr(args).expect_err(args)
    }

    #[test]
    fn device_options_become_long_flags() {
        assert_eq!(
            ok("-drive if=none,id=d,file=x.img -device virtio-blk-device,drive=d -device virtio-rng-device"),
            "--drive if=none,id=d,file=x.img --device virtio-blk-device,drive=d \
             --device virtio-rng-device -m 128M"
        );
        assert_eq!(ok("-netdev user,id=n"), "--netdev user,id=n -m 128M");
        assert_eq!(ok("-global virtio-mmio.force-legacy=false"), "-m 128M");
        assert!(err("-global virtio-mmio.force-legacy=true").contains("modern"));
        assert!(err("-global e1000.mac=x").contains("-global e1000.mac=x is not supported"));
        assert!(err("-drive").contains("-drive needs a value"));
    }

    #[test]
    fn long_flags_pass_through_untouched() {
        assert_eq!(
            ok("--kernel k.elf --smp 2 -m 1G"),
            "--kernel k.elf --smp 2 -m 1G"
        );
        // A long flag's value is not parsed as a QEMU option.
        assert_eq!(
            ok("--append -kernel --kernel k"),
            "--append -kernel --kernel k"
        );
        assert_eq!(ok("--append=-x --kernel k"), "--append=-x --kernel k");
        assert_eq!(ok("-h"), "-h");
        assert_eq!(ok("--help"), "--help");
        assert_eq!(ok("-help"), "--help -m 128M");
    }

    #[test]
    fn the_xtask_qemu_command_line_translates() {
        assert_eq!(
            ok(
                "-M virt -cpu cortex-a57 -m 512M -nographic -monitor none -serial stdio -smp 2 \
                -accel tcg,thread=multi -kernel hello.elf"
            ),
            "--cpu cortex-a57 -m 512M --smp 2 --sched mttcg --kernel hello.elf"
        );
    }

    #[test]
    fn machine() {
        assert_eq!(ok("-M virt -kernel k"), "--kernel k -m 128M");
        assert_eq!(
            ok("-machine virt,gic-version=2 -m 1G"),
            "--gic-version 2 -m 1G"
        );
        assert_eq!(ok("-machine type=virt -m 1G"), "-m 1G");
        assert_eq!(
            ok("-M virt,dtb-randomness=off,dumpdtb=x.dtb -m 1"),
            "--no-dtb-randomness --dump-dtb x.dtb -m 1"
        );
        assert_eq!(
            ok("-M virt,dtb-kaslr-seed=on,secure=off,virtualization=off -m 1"),
            "-m 1"
        );
        assert_eq!(ok("-M virt,gic-version=3 -m 1G"), "--gic-version 3 -m 1G");
        assert_eq!(
            ok("-M virt,gic-version=max,its=off -m 1G"),
            "--gic-version max -m 1G"
        );
        assert!(err("-M virt,gic-version=4").contains("gic-version=4: GICv4 is not supported"));
        assert!(err("-M virt,gic-version=7").contains("unknown GIC version"));
        assert!(err("-M virt,gic-version=3,its=on").contains("no ITS"));
        let e = err("-M virt,highmem=off,mte=on");
        assert!(e.contains("highmem, mte"), "{e}");
        assert!(err("-M virt,foo").contains("foo"));
        assert!(err("-M sbsa-ref").contains("only the `virt` machine"));
        assert!(err("-M virt,secure=on").contains("secure=on"));
        assert!(err("-M virt,dtb-randomness=maybe").contains("expected on or off"));
        assert!(err("-M").contains("-M needs a value"));
    }

    #[test]
    fn cpu() {
        for c in ["cortex-a57", "cortex-a53", "cortex-a72", "max"] {
            assert_eq!(ok(&format!("-cpu {c} -m 1")), format!("--cpu {c} -m 1"));
        }
        assert!(err("-cpu cortex-a15").contains("-cpu cortex-a15 is not supported"));
        assert!(err("-cpu max,sve=off").contains("CPU properties"));
    }

    #[test]
    fn smp() {
        assert_eq!(ok("-smp 4 -m 1"), "--smp 4 -m 1");
        assert_eq!(ok("-smp cpus=2,maxcpus=2 -m 1"), "--smp 2 -m 1");
        assert_eq!(
            ok("-smp 4,sockets=1,cores=2,threads=2 -m 1"),
            "--smp 4 -m 1"
        );
        assert_eq!(ok("-smp sockets=2,cores=2 -m 1"), "--smp 4 -m 1");
        assert_eq!(ok("-smp maxcpus=3 -m 1"), "--smp 3 -m 1");
        assert!(err("-smp 2,maxcpus=4").contains("hotplug"));
        assert!(err("-smp 4,cores=3").contains("topology gives 3"));
        assert!(err("-smp two").contains("not a positive number"));
        assert!(err("-smp 0").contains("not a positive number"));
        assert!(err("-smp 2,books=1").contains("unknown property books"));
        assert!(err("-smp 2,3").contains("not key=value"));
    }

    #[test]
    fn memory() {
        assert_eq!(ok("-m 512"), "-m 512");
        assert_eq!(ok("-m 512M"), "-m 512M");
        assert_eq!(ok("-m size=1G"), "-m 1G");
        assert!(err("-m 1G,maxmem=2G").contains("hotplug"));
        assert!(err("-m 1G,foo=1").contains("unknown property"));
        assert!(err("-m slots=2").contains("hotplug"));
        // With QEMU syntax and no -m, QEMU's default RAM; --m counts as given.
        assert_eq!(ok("-kernel k"), "--kernel k -m 128M");
        assert_eq!(ok("--kernel k"), "--kernel k");
    }

    #[test]
    fn files_and_command_line() {
        assert_eq!(
            ok("-kernel Image -initrd rd.cpio -append console=ttyAMA0 -dtb t.dtb -m 1"),
            "--kernel Image --initrd rd.cpio --append console=ttyAMA0 --dtb t.dtb -m 1"
        );
        // The value of -append is never an option, even when it starts with a dash.
        let v: Vec<String> = ["-append", "-x --y", "-kernel", "k"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            translate(&v, &|_| false).unwrap(),
            ["--append", "-x --y", "--kernel", "k", "-m", "128M"]
        );
        assert!(err("-kernel").contains("-kernel needs a value"));
    }

    #[test]
    fn display_monitor_serial() {
        assert_eq!(ok("-nographic -display none -monitor none -m 1"), "-m 1");
        assert_eq!(ok("-serial mon:stdio -m 1"), "-m 1");
        assert_eq!(ok("-serial null -m 1"), "--serial null -m 1");
        assert_eq!(ok("-serial none -m 1"), "--serial null -m 1");
        assert_eq!(
            ok("-serial file:out.txt -m 1"),
            "--serial file:out.txt -m 1"
        );
        assert!(err("-serial pty").contains("-serial pty is not supported"));
        assert!(err("-serial file:").contains("not supported"));
        assert!(err("-serial stdio -serial null").contains("one UART"));
        assert!(err("-display gtk").contains("-display gtk"));
        assert!(err("-monitor stdio").contains("-monitor stdio"));
    }

    #[test]
    fn reboot_accel_and_logging() {
        assert_eq!(ok("-no-reboot -m 1"), "--no-reboot -m 1");
        assert_eq!(ok("-accel tcg -m 1"), "--sched mttcg -m 1");
        assert_eq!(ok("-accel tcg,thread=single -m 1"), "--sched rr -m 1");
        assert!(err("-accel kvm").contains("-accel kvm is not supported"));
        assert_eq!(
            ok("-accel tcg,tb-size=64 -m 1"),
            "--sched mttcg --tb-size 64 -m 1"
        );
        assert!(err("-accel tcg,tb-size=lots").contains("tb-size"));
        assert_eq!(
            ok("-accel tcg,thread=single,split-wx=on -m 1"),
            "--sched rr --split-wx -m 1"
        );
        assert_eq!(ok("-accel tcg,split-wx=off -m 1"), "--sched mttcg -m 1");
        assert!(err("-accel tcg,split-wx=maybe").contains("expected on or off"));
        assert_eq!(
            ok("-d unimp -D log.txt -m 1"),
            "--trace unimp --log-file log.txt -m 1"
        );
        assert_eq!(
            ok("-d in_asm,op,op_opt,out_asm,exec,cpu,nochain,int -m 1"),
            "--trace in_asm,op,op_opt,out_asm,exec,cpu,nochain,int -m 1"
        );
        assert_eq!(ok("-d help"), "--trace help -m 128M");
        let e = err("-d unimp,page");
        assert!(e.contains("-d page: unknown log item"), "{e}");
        assert!(err("-d").contains("-d needs a value"));
    }

    #[test]
    fn gdb_options() {
        assert_eq!(ok("-s -S -m 1"), "--gdb tcp::1234 --halted -m 1");
        assert_eq!(ok("-gdb tcp::4321 -m 1"), "--gdb tcp::4321 -m 1");
        assert_eq!(
            ok("-gdb tcp:0.0.0.0:4321 -m 1"),
            "--gdb tcp:0.0.0.0:4321 -m 1"
        );
        let e = err("-gdb unix:/tmp/x");
        assert!(e.contains("-gdb") && e.contains("only tcp"), "{e}");
        assert!(err("-gdb tcp::x").contains("port number"));
        assert!(err("-gdb").contains("-gdb needs a value"));
    }

    #[test]
    fn unknown_options_are_errors_naming_them() {
        let e = err("-enable-kvm");
        assert!(e.contains("-enable-kvm"), "{e}");
        assert!(err("-x").contains("-x"));
    }
}
