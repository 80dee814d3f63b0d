//! gethostlatency: host name lookups in libc, timed from call to return.

use crate::EventHeader;

/// Bytes of host name kept; a DNS name has at most 253.
pub const HOST_LEN: usize = 256;

/// Which libc function a lookup went through.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupFunc {
    GetAddrInfo = 0,
    GetHostByName = 1,
    GetHostByName2 = 2,
}

impl LookupFunc {
    pub const fn from_u32(v: u32) -> Option<Self> {
        match v {
            0 => Some(Self::GetAddrInfo),
            1 => Some(Self::GetHostByName),
            2 => Some(Self::GetHostByName2),
            _ => None,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Self::GetAddrInfo => "getaddrinfo",
            Self::GetHostByName => "gethostbyname",
            Self::GetHostByName2 => "gethostbyname2",
        }
    }
}

/// A lookup in flight, by thread id, from entry to return.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LookupStart {
    /// User pointer to the host name argument.
    pub host: u64,
    pub start_ns: u64,
    pub func: u32,
    pub _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LookupEvent {
    pub header: EventHeader,
    pub latency_ns: u64,
    pub func: u32,
    /// Bytes of `host` including the NUL, or a negative errno when it could
    /// not be read (0 for a null pointer).
    pub host_len: i32,
    pub host: [u8; HOST_LEN],
}
