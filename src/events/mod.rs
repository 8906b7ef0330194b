//! Events out: the bus that carries new outbox events to this replica's subscribers, the per-recipient
//! view of an event (the read policy applied), and the jobs that run once across replicas under a lease
//! — webhook fan-out and delivery, and the tracker that turns status and warning changes into events.

pub mod bus;
pub mod payload;
pub mod tracker;
pub mod worker;

pub use bus::Bus;
pub use payload::{EventView, view_for};
