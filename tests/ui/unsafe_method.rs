#[cachex::auto_async]
pub trait Raw {
    unsafe fn peek(&self) -> u8;
}

fn main() {}
