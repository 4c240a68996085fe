//! The device tree the board hands to a Linux kernel (same layout as QEMU's virt for the
//! devices we implement: memory, CPUs with PSCI, GICv2, generic timer, PL011, PL031).

use crate::board::{map, GicVersion};
use crate::psci::func;
use vm_fdt::{Error, FdtWriter};

/// GIC interrupt specifier types (first cell) and trigger flags.
const GIC_SPI: u32 = 0;
const GIC_PPI: u32 = 1;
const IRQ_EDGE_RISING: u32 = 1;
const IRQ_LEVEL_HIGH: u32 = 4;
/// The fixed 24 MHz APB clock of the PL011 and PL031.
const APB_CLOCK_HZ: u32 = 24_000_000;
const PHANDLE_GIC: u32 = 0x8001;
const PHANDLE_CLK: u32 = 0x8000;

/// Generic timer PPIs (as device-tree PPI numbers): secure, non-secure, virtual, hypervisor.
pub const TIMER_PPIS: [u32; 4] = [13, 14, 11, 10];
/// UART and RTC SPIs.
pub const UART_SPI: u32 = 1;
pub const RTC_SPI: u32 = 2;
/// SPI of the first virtio-mmio transport (the n-th has this + n).
pub const VIRTIO_SPI_BASE: u32 = 16;

pub struct FdtConfig<'a> {
    pub ram_size: u64,
    pub ncpus: usize,
    /// The interrupt controller's node, the CPU nodes' `reg` (MPIDR affinity) and the
    /// timer's PPI flags follow it.
    pub gic_version: crate::board::GicVersion,
    pub bootargs: Option<&'a str>,
    /// Physical start and end of the initial ramdisk.
    pub initrd: Option<(u64, u64)>,
    /// The CPU nodes' `compatible` (the `-cpu` model).
    pub cpu_compatible: &'a str,
    /// `/chosen/rng-seed` and `kaslr-seed` (QEMU's `dtb-randomness`; None when off).
    pub seeds: Option<([u8; 32], [u8; 8])>,
}

/// QEMU's virt tree is a 1 MiB blob (mostly free space); its size decides whether it
/// fits below a bare-metal ELF, so ours has the same.
pub const TREE_SIZE: usize = 1 << 20;

/// Fills `buf` from the host's random source.
pub fn host_random(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

/// Fresh seeds for `/chosen` from the host's random source.
pub fn random_seeds() -> std::io::Result<([u8; 32], [u8; 8])> {
    let mut rng = [0u8; 32];
    let mut kaslr = [0u8; 8];
    host_random(&mut rng)?;
    host_random(&mut kaslr)?;
    Ok((rng, kaslr))
}

fn cells64(v: &[u64]) -> Vec<u32> {
    v.iter()
        .flat_map(|&x| [(x >> 32) as u32, x as u32])
        .collect()
}

pub fn build(cfg: &FdtConfig<'_>) -> Result<Vec<u8>, Error> {
    let mut f = FdtWriter::new()?;
    let root = f.begin_node("")?;
    f.property_u32("interrupt-parent", PHANDLE_GIC)?;
    f.property_string("model", "linux,dummy-virt")?;
    f.property_u32("#size-cells", 2)?;
    f.property_u32("#address-cells", 2)?;
    f.property_string("compatible", "linux,dummy-virt")?;

    let psci = f.begin_node("psci")?;
    f.property_string_list(
        "compatible",
        vec![
            "arm,psci-1.0".into(),
            "arm,psci-0.2".into(),
            "arm,psci".into(),
        ],
    )?;
    f.property_string("method", "hvc")?;
    f.property_u32("cpu_suspend", func::CPU_SUSPEND_64)?;
    f.property_u32("cpu_off", func::CPU_OFF)?;
    f.property_u32("cpu_on", func::CPU_ON_64)?;
    f.property_u32("migrate", 0xc400_0005)?;
    f.end_node(psci)?;

    let mem = f.begin_node(&format!("memory@{:x}", map::RAM))?;
    f.property_string("device_type", "memory")?;
    f.property_array_u32("reg", &cells64(&[map::RAM, cfg.ram_size]))?;
    f.end_node(mem)?;

    // Every transport, used or not, as QEMU (drivers skip device ID 0).
    for n in 0..map::VIRTIO_COUNT {
        let base = map::VIRTIO + n as u64 * map::VIRTIO_SIZE;
        let node = f.begin_node(&format!("virtio_mmio@{base:x}"))?;
        f.property_null("dma-coherent")?;
        f.property_array_u32(
            "interrupts",
            &[GIC_SPI, VIRTIO_SPI_BASE + n as u32, IRQ_EDGE_RISING],
        )?;
        f.property_array_u32("reg", &cells64(&[base, map::VIRTIO_SIZE]))?;
        f.property_string("compatible", "virtio,mmio")?;
        f.end_node(node)?;
    }

    let rtc = f.begin_node(&format!("pl031@{:x}", map::RTC))?;
    f.property_string_list(
        "compatible",
        vec!["arm,pl031".into(), "arm,primecell".into()],
    )?;
    f.property_array_u32("reg", &cells64(&[map::RTC, 0x1000]))?;
    f.property_array_u32("interrupts", &[GIC_SPI, RTC_SPI, IRQ_LEVEL_HIGH])?;
    f.property_u32("clocks", PHANDLE_CLK)?;
    f.property_string("clock-names", "apb_pclk")?;
    f.end_node(rtc)?;

    let uart = f.begin_node(&format!("pl011@{:x}", map::UART))?;
    f.property_string_list(
        "compatible",
        vec!["arm,pl011".into(), "arm,primecell".into()],
    )?;
    f.property_array_u32("reg", &cells64(&[map::UART, map::UART_SIZE]))?;
    f.property_array_u32("interrupts", &[GIC_SPI, UART_SPI, IRQ_LEVEL_HIGH])?;
    f.property_array_u32("clocks", &[PHANDLE_CLK, PHANDLE_CLK])?;
    f.property_string_list("clock-names", vec!["uartclk".into(), "apb_pclk".into()])?;
    f.end_node(uart)?;

    let v3 = cfg.gic_version == GicVersion::V3;
    let gic = f.begin_node(&format!("intc@{:x}", map::GIC_DIST))?;
    f.property_phandle(PHANDLE_GIC)?;
    if v3 {
        // QEMU's: one redistributor region of 123 frames whatever the CPU count (the
        // last CPU's GICR_TYPER.Last ends the guest's scan); no ITS node (no ITS here)
        // and no maintenance interrupt (no virtualization).
        f.property_string("compatible", "arm,gic-v3")?;
        f.property_array_u32(
            "reg",
            &cells64(&[
                map::GIC_DIST,
                crate::gicv3::gicd::SIZE,
                map::GIC_REDIST,
                crate::gicv3::REDIST_REGION_SIZE,
            ]),
        )?;
        f.property_u32("#redistributor-regions", 1)?;
    } else {
        f.property_string("compatible", "arm,cortex-a15-gic")?;
        f.property_array_u32(
            "reg",
            &cells64(&[map::GIC_DIST, 0x1_0000, map::GIC_CPU, 0x1_0000]),
        )?;
    }
    f.property_u32("#interrupt-cells", 3)?;
    f.property_null("interrupt-controller")?;
    f.property_u32("#address-cells", 2)?;
    f.property_u32("#size-cells", 2)?;
    f.property_null("ranges")?;
    f.end_node(gic)?;

    let cpus = f.begin_node("cpus")?;
    f.property_u32("#address-cells", 1)?;
    f.property_u32("#size-cells", 0)?;
    for i in 0..cfg.ncpus {
        let cpu = f.begin_node(&format!("cpu@{i}"))?;
        f.property_string("device_type", "cpu")?;
        f.property_string("compatible", cfg.cpu_compatible)?;
        f.property_string("enable-method", "psci")?;
        // The MPIDR affinity (Aff2..Aff0; QEMU's virt never sets Aff3).
        f.property_u32("reg", (cfg.gic_version.mpidr(i) & 0xff_ffff) as u32)?;
        f.end_node(cpu)?;
    }
    f.end_node(cpus)?;

    // PPI flags carry the mask of CPUs the interrupt goes to in the GICv2 binding; the
    // GICv3 binding has no such mask.
    let ppi_flags = if v3 {
        IRQ_LEVEL_HIGH
    } else {
        (((1u32 << cfg.ncpus.min(8)) - 1) << 8) | IRQ_LEVEL_HIGH
    };
    let timer = f.begin_node("timer")?;
    f.property_string_list(
        "compatible",
        vec!["arm,armv8-timer".into(), "arm,armv7-timer".into()],
    )?;
    let irqs: Vec<u32> = TIMER_PPIS
        .iter()
        .flat_map(|&p| [GIC_PPI, p, ppi_flags])
        .collect();
    f.property_array_u32("interrupts", &irqs)?;
    f.property_null("always-on")?;
    f.end_node(timer)?;

    let clk = f.begin_node("apb-pclk")?;
    f.property_string("compatible", "fixed-clock")?;
    f.property_u32("#clock-cells", 0)?;
    f.property_u32("clock-frequency", APB_CLOCK_HZ)?;
    f.property_string("clock-output-names", "clk24mhz")?;
    f.property_phandle(PHANDLE_CLK)?;
    f.end_node(clk)?;

    // QEMU's order: it adds the boot properties first in the node, one by one, after
    // building the rest (guests that walk the tree see this order).
    let chosen = f.begin_node("chosen")?;
    if let Some((start, end)) = cfg.initrd {
        f.property_u64("linux,initrd-end", end)?;
        f.property_u64("linux,initrd-start", start)?;
    }
    if let Some(args) = cfg.bootargs.filter(|a| !a.is_empty()) {
        f.property_string("bootargs", args)?;
    }
    f.property_string("stdout-path", &format!("/pl011@{:x}", map::UART))?;
    if let Some((rng, kaslr)) = &cfg.seeds {
        f.property("rng-seed", rng)?;
        f.property("kaslr-seed", kaslr)?;
    }
    f.end_node(chosen)?;

    f.end_node(root)?;
    Ok(crate::fdt_edit::pad(f.finish()?, TREE_SIZE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dtc_available() -> bool {
        std::process::Command::new("dtc")
            .arg("--version")
            .output()
            .is_ok()
    }

    #[test]
    fn tree_has_the_virt_nodes_and_decompiles() {
        let cfg = FdtConfig {
            ram_size: 512 << 20,
            ncpus: 2,
            gic_version: GicVersion::V2,
            bootargs: Some("console=ttyAMA0"),
            initrd: Some((0x4800_0000, 0x4810_0000)),
            cpu_compatible: "arm,cortex-a53",
            seeds: Some(([7; 32], [9; 8])),
        };
        let blob = build(&cfg).unwrap();
        assert_eq!(&blob[..4], &[0xd0, 0x0d, 0xfe, 0xed], "FDT magic");
        assert_eq!(blob.len(), TREE_SIZE, "padded like QEMU's");
        let tree = crate::fdt_edit::parse(&blob).unwrap();
        let chosen = tree
            .root
            .children
            .iter()
            .find(|c| c.name == "chosen")
            .unwrap();
        let names: Vec<&str> = chosen.props.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "linux,initrd-end",
                "linux,initrd-start",
                "bootargs",
                "stdout-path",
                "rng-seed",
                "kaslr-seed"
            ]
        );
        assert_eq!(chosen.prop("rng-seed"), Some(&[7u8; 32][..]));
        assert_eq!(chosen.prop("kaslr-seed"), Some(&[9u8; 8][..]));
        if !dtc_available() {
            eprintln!("skipping the dtc check: dtc (device-tree-compiler) is not installed");
            return;
        }
        let dir = std::env::temp_dir().join(format!("fdt-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("virt.dtb");
        std::fs::write(&p, &blob).unwrap();
        let out = std::process::Command::new("dtc")
            .args(["-I", "dtb", "-O", "dts"])
            .arg(&p)
            .output()
            .unwrap();
        let dts = String::from_utf8_lossy(&out.stdout);
        for needle in [
            "memory@40000000",
            "reg = <0x00 0x40000000 0x00 0x20000000>;",
            "cpu@1",
            "enable-method = \"psci\";",
            "method = \"hvc\";",
            "compatible = \"arm,cortex-a15-gic\";",
            // QEMU's GICv2: 64 KiB distributor and 64 KiB CPU interface (GICC_DIR at 0x1000).
            "reg = <0x00 0x8000000 0x00 0x10000 0x00 0x8010000 0x00 0x10000>;",
            "interrupts = <0x00 0x02 0x04>;",
            "interrupts = <0x01 0x0d 0x304 0x01 0x0e 0x304 0x01 0x0b 0x304 0x01 0x0a 0x304>;",
            "interrupts = <0x00 0x01 0x04>;",
            "bootargs = \"console=ttyAMA0\";",
            "stdout-path = \"/pl011@9000000\";",
            "linux,initrd-start = <0x00 0x48000000>;",
            "compatible = \"arm,cortex-a53\";",
            // The virtio-mmio bank, as QEMU's.
            "virtio_mmio@a000000 {",
            "interrupts = <0x00 0x10 0x01>;",
            "reg = <0x00 0xa003e00 0x00 0x200>;",
            "interrupts = <0x00 0x2f 0x01>;",
            "compatible = \"virtio,mmio\";",
        ] {
            assert!(dts.contains(needle), "missing `{needle}` in\n{dts}");
        }
    }

    /// The property lines directly inside node `name` (not its children) of a dts.
    fn node_props(dts: &str, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut depth = 0usize;
        let mut inside: Option<usize> = None;
        for line in dts.lines().map(str::trim) {
            if line.ends_with('{') {
                if inside.is_none() && line == format!("{name} {{") {
                    inside = Some(depth + 1);
                }
                depth += 1;
                continue;
            }
            if line.starts_with('}') {
                if inside == Some(depth) {
                    inside = None;
                }
                depth = depth.saturating_sub(1);
                continue;
            }
            if inside == Some(depth) && !line.is_empty() {
                out.push(line.to_string());
            }
        }
        out
    }

    fn dts_of(blob: &[u8], tag: &str) -> String {
        let p = std::env::temp_dir().join(format!("fdt-v3-{}-{tag}.dtb", std::process::id()));
        std::fs::write(&p, blob).unwrap();
        let out = std::process::Command::new("dtc")
            .args(["-I", "dtb", "-O", "dts"])
            .arg(&p)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&p);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The GICv3 tree against QEMU's own (`-M virt,gic-version=3,dumpdtb=`, 20 CPUs so
    /// that the second cluster shows): the interrupt controller node, every CPU's `reg`
    /// (MPIDR affinity) and the timer's PPI flags.
    #[test]
    fn gicv3_tree_matches_qemus() {
        let n = 20;
        let blob = build(&FdtConfig {
            ram_size: 512 << 20,
            ncpus: n,
            gic_version: GicVersion::V3,
            bootargs: None,
            initrd: None,
            cpu_compatible: "arm,cortex-a57",
            seeds: None,
        })
        .unwrap();
        if !dtc_available() {
            eprintln!("skipping: dtc (device-tree-compiler) is not installed");
            return;
        }
        let ours = dts_of(&blob, "ours");
        let qemu_dtb = std::env::temp_dir().join(format!("fdt-v3-{}-qemu.dtb", std::process::id()));
        let run = std::process::Command::new("qemu-system-aarch64")
            .arg("-M")
            .arg(format!("virt,gic-version=3,dumpdtb={}", qemu_dtb.display()))
            .args([
                "-cpu",
                "cortex-a57",
                "-m",
                "512M",
                "-nographic",
                "-smp",
                "20",
            ])
            .output();
        let Ok(qemu_blob) = run.and_then(|_| std::fs::read(&qemu_dtb)) else {
            eprintln!("skipping the QEMU comparison: qemu-system-aarch64 is not installed");
            return;
        };
        let _ = std::fs::remove_file(&qemu_dtb);
        let qemu = dts_of(&qemu_blob, "qemu");
        let intc = format!("intc@{:x}", map::GIC_DIST);
        let (q, o) = (node_props(&qemu, &intc), node_props(&ours, &intc));
        for p in [
            "reg =",
            "#redistributor-regions",
            "compatible =",
            "#interrupt-cells",
            "interrupt-controller;",
            "ranges;",
        ] {
            let pick = |v: &[String]| v.iter().find(|l| l.starts_with(p)).cloned();
            assert!(pick(&q).is_some(), "QEMU's {intc} has no {p}");
            assert_eq!(pick(&o), pick(&q), "{intc} {p}");
        }
        for i in 0..n {
            let node = format!("cpu@{i}");
            let reg = |v: Vec<String>| v.into_iter().find(|l| l.starts_with("reg ="));
            assert_eq!(
                reg(node_props(&ours, &node)),
                reg(node_props(&qemu, &node)),
                "{node}"
            );
        }
        let irqs = |d: &str| {
            node_props(d, "timer")
                .into_iter()
                .find(|l| l.starts_with("interrupts ="))
        };
        assert_eq!(irqs(&ours), irqs(&qemu), "timer PPIs");
    }
}
