// An `unsafe fn` has no twins: it is kept as written, next to the expanded methods.
#[cachex::auto_async]
pub trait Raw {
    unsafe fn peek(&self) -> u8;
    fn size(&self) -> u8;
}

struct S;

impl Raw for S {
    unsafe fn peek(&self) -> u8 {
        1
    }
    fn size(&self) -> u8 {
        2
    }
}

fn main() {
    let _ = unsafe { S.peek() } + S.size();
    let _ = S.asize();
}
