// A method that never returns has no async twin: it is kept as written.
#[cachex::auto_async]
pub trait Server {
    fn serve(&self) -> !;
    fn port(&self) -> u16;
}

struct S;

impl Server for S {
    fn serve(&self) -> ! {
        std::process::exit(0)
    }
    fn port(&self) -> u16 {
        80
    }
}

fn main() {
    let _ = S.aport();
}
