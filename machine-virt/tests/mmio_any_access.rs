//! No guest access to a device register window can crash the host: every offset of the
//! GIC distributor and CPU interface, the PL011 and the PL031, at every access size, read
//! and written with patterned values (plus every SGI / interrupt ID the values name), from
//! every CPU. Registers the devices do not have must read as something and ignore writes.

use machine_virt::gic::Gic;
use machine_virt::gicv3::{GicV3, REDIST_STRIDE};
use machine_virt::pl011::Pl011;
use machine_virt::pl031::Pl031;
use softmmu::MmioDevice;

const VALUES: [u64; 5] = [
    0,
    u64::MAX,
    0x8000_0000_0000_0001,
    0x0f0f_f0f0_3ff0_0fff,
    0x3ff,
];
const SIZES: [u32; 4] = [1, 2, 4, 8];

#[test]
fn gic_accepts_any_access_from_any_cpu() {
    let gic = Gic::new(4);
    for cpu in 0..4 {
        // Every byte offset where the distributor has registers, then every word to the
        // end of the 64 KiB windows (GICC_DIR lives at 0x1000).
        for offset in (0..0x1000u64).chain((0x1000..0x1_0000).step_by(4)) {
            for size in SIZES {
                for v in VALUES {
                    gic.dist_write(cpu, offset, size, v);
                    gic.cpu_write(cpu, offset, size, v);
                }
                let _ = gic.dist_read(cpu, offset, size);
                let _ = gic.cpu_read(cpu, offset, size);
            }
        }
    }
}

/// The GICv3: every distributor offset (the IROUTER block included), both frames of
/// every redistributor and the space after the last one, and every ICC register.
#[test]
fn gicv3_accepts_any_access_and_any_icc_value() {
    let gic = GicV3::new(3);
    for offset in (0..0x1000u64).chain((0x1000..0x1_0000).step_by(4)) {
        for size in SIZES {
            for v in VALUES {
                gic.dist_write(offset, size, v);
            }
            let _ = gic.dist_read(offset, size);
        }
    }
    for offset in (0..4 * REDIST_STRIDE).step_by(4) {
        for size in SIZES {
            for v in VALUES {
                gic.redist_write(offset, size, v);
            }
            let _ = gic.redist_read(offset, size);
        }
    }
    for cpu in 0..4 {
        for &(reg, _, _) in arm_cpu::irq::IccReg::ALL {
            for v in VALUES {
                gic.icc_write(cpu, reg, v);
                let _ = gic.icc_read(cpu, reg);
            }
        }
    }
}

fn any_access(dev: &dyn MmioDevice, window: u64) {
    for offset in 0..window {
        for size in SIZES {
            for v in VALUES {
                dev.write(offset, size, v);
            }
            let _ = dev.read(offset, size);
        }
    }
}

#[test]
fn uart_and_rtc_accept_any_access() {
    any_access(&Pl011::new(Box::new(std::io::sink())), 0x1000);
    any_access(&Pl031::new(), 0x1000);
}

/// The virtio-mmio transports (empty, and with each device model behind them, with
/// guest RAM attached): patterned writes to every register, status and queue
/// notification included, end in device errors at worst.
#[test]
fn virtio_transports_accept_any_access() {
    use std::sync::Arc;
    use virtio_devices::mmio::{EmptyTransport, Interrupt, VirtioMmio};
    let mut mem = softmmu::PhysMap::new();
    mem.add_ram("ram", softmmu::PhysAddr(0x4000_0000), 0x10_0000)
        .unwrap();
    let mem = Arc::new(mem);
    let img = std::env::temp_dir().join(format!("virtio-any-{}.img", std::process::id()));
    std::fs::write(&img, [0u8; 8192]).unwrap();
    let disk = virtio_devices::blk::Disk::open(&virtio_devices::blk::DiskOptions {
        path: img.clone(),
        ..Default::default()
    })
    .unwrap();
    let specs = [
        virtio_devices::DeviceSpec::Rng,
        virtio_devices::DeviceSpec::Blk {
            disk: Arc::new(disk),
            serial: "s".into(),
        },
        virtio_devices::DeviceSpec::Console { ports: vec![] },
    ];
    any_access(&EmptyTransport, 0x200);
    for spec in &specs {
        let irq = Arc::new(Interrupt::new(
            spec.name(),
            Box::new(|_| {}),
            virtio_devices::quiet_logger(),
        ));
        let t = VirtioMmio::new(spec.build(), irq);
        t.attach_memory(&mem);
        any_access(&t, 0x200);
        // Live queues at RAM addresses the patterns above never name.
        for (off, v) in [
            (0x70, 0xbu64),
            (0x30, 0),
            (0x38, 8),
            (0x80, 0x4000_0000),
            (0x90, 0x4000_1000),
            (0xa0, 0x4000_2000),
            (0x44, 1),
            (0x70, 0xf),
        ] {
            t.write(off, 4, v);
        }
        any_access(&t, 0x200);
        t.reset();
    }
    let _ = std::fs::remove_file(&img);
}
