//! virtio console (placeholder).
