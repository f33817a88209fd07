#[cachex::auto_async(?Send)]
pub trait First {
    fn one(&self);
}

#[cachex::auto_async(fast)]
pub trait Second {
    fn two(&self);
}

#[cachex::auto_async]
pub trait Third {
    #[auto_async(inline)]
    fn three(&self);
    #[auto_async]
    fn four(&self);
    #[auto_async(skip, nonblocking)]
    fn five(&self);
}

#[cachex::auto_async(local, local)]
pub trait Fourth {
    fn six(&self);
}

#[cachex::auto_async(Send)]
pub trait Fifth {
    fn seven(&self);
}

fn main() {}
