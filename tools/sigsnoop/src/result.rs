//! What became of a signal: `signal_generate`'s result, or kill(2)'s.

use ebpftop_common::sigsnoop::generate_result as r;
use ebpftop_output::errno::errno_name;

/// `result` of `signal:signal_generate`, as JSON writes it.
pub fn generate_result_name(result: i32) -> Option<&'static str> {
    Some(match result {
        r::DELIVERED => "delivered",
        r::IGNORED => "ignored",
        r::ALREADY_PENDING => "already_pending",
        r::OVERFLOW_FAIL => "overflow",
        r::LOSE_INFO => "lose_info",
        _ => return None,
    })
}

/// kill(2)'s return as a result: `ok`, or the errno's name.
pub fn kill_result_name(ret: i32) -> String {
    if ret == 0 {
        return "ok".into();
    }
    let errno = -i64::from(ret);
    errno_name(errno).map_or_else(|| format!("error {errno}"), String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(generate_result_name(0), Some("delivered"));
        assert_eq!(generate_result_name(2), Some("already_pending"));
        assert_eq!(generate_result_name(4), Some("lose_info"));
        assert_eq!(generate_result_name(5), None);
        assert_eq!(kill_result_name(0), "ok");
        assert_eq!(kill_result_name(-3), "ESRCH");
        assert_eq!(kill_result_name(-1), "EPERM");
        assert_eq!(kill_result_name(-4000), "error 4000");
    }
}
