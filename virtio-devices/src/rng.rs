//! virtio-rng (entropy device, virtio 1.x section 5.4): one request queue whose
//! device-writable buffers are filled from the host's random source (getrandom).

use crate::mem;
use crate::mmio::{DeviceContext, VirtioDevice};
use crate::queue::Chain;
use crate::{Error, Result};
use softmmu::PhysMap;
use virtio_bindings::virtio_ids::VIRTIO_ID_RNG;

/// QueueNumMax of the request queue.
pub const QUEUE_SIZE: u16 = 64;
/// At most this many bytes per request (the driver asks for less; a larger buffer is
/// filled partly, which the spec allows).
pub const MAX_REQUEST: u32 = 64 * 1024;

/// The entropy device. Requests are served on the notifying vCPU's thread (a getrandom
/// call is quick).
#[derive(Default)]
pub struct Rng {
    ctx: Option<DeviceContext>,
}

impl Rng {
    pub fn new() -> Rng {
        Rng::default()
    }
}

/// Fills the writable buffers of `chain` with random bytes; returns the bytes written.
pub fn serve(mem: &PhysMap, chain: &Chain) -> Result<u32> {
    let mut left = MAX_REQUEST;
    let mut done = 0u32;
    let mut buf = vec![0u8; 4096];
    for d in chain.writable() {
        let mut off = 0u32;
        while off < d.len && left > 0 {
            let n = (d.len - off).min(left).min(buf.len() as u32);
            let chunk = &mut buf[..n as usize];
            getrandom::fill(chunk).map_err(|e| Error::Io {
                what: "host random source".into(),
                err: std::io::Error::other(e.to_string()),
            })?;
            mem::write(mem, d.addr + u64::from(off), chunk)?;
            off += n;
            left -= n;
            done += n;
        }
    }
    Ok(done)
}

impl VirtioDevice for Rng {
    fn device_id(&self) -> u32 {
        VIRTIO_ID_RNG
    }

    fn features(&self) -> u64 {
        0
    }

    fn queue_max_sizes(&self) -> Vec<u16> {
        vec![QUEUE_SIZE]
    }

    fn read_config(&self, _offset: u64, data: &mut [u8]) {
        data.fill(0);
    }

    fn activate(&mut self, ctx: DeviceContext) {
        self.ctx = Some(ctx);
    }

    fn notify(&mut self, queue: usize) {
        if let Some(ctx) = &self.ctx {
            ctx.process_queue(queue, serve);
        }
    }

    fn reset(&mut self) {
        self.ctx = None;
    }
}
