//! Protocol, storage and crypto figures (single process, no network).

use anyhow::Result;

use crate::Opts;
use crate::report::Section;

pub fn protocol(_opts: &Opts) -> Result<Vec<Section>> {
    Ok(Vec::new())
}

pub fn storage(_opts: &Opts) -> Result<Vec<Section>> {
    Ok(Vec::new())
}

pub fn crypto(_opts: &Opts) -> Result<Vec<Section>> {
    Ok(Vec::new())
}
