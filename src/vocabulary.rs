//! The design's vocabulary: the enums and code lists live with the entities that store them
//! (`entity::vocabulary`); this module is their path inside the application.

pub use entity::vocabulary::*;
