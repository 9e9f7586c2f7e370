//! The elementwise kernel tables of the x86_64 paths, generated for every path from one list.

/// Writes module `$isa` holding the static tables `F32` and `F64` of path `SimdPath::$path`:
/// the kernels of `macros.rs` instantiated over the vocabulary `isa::$isa` with target
/// features `$feat`. The `f64` transcendentals come from the scalar path (`libm`).
macro_rules! path_tables {
    ($path:ident, $feat:literal, $isa:ident) => {
        pub(super) mod $isa {
            use crate::simd::{Kernels, SimdPath, scalar};

            /// `f32` kernels.
            mod k32 {
                use crate::simd::isa::$isa::f32 as v;

                arith_kernels!($feat, f32, v);
                map_kernel!($feat, f32, v, exp, |x| v::exp(x));
                map_kernel!($feat, f32, v, tanh, |x| v::tanh(x));
                map_kernel!($feat, f32, v, sigmoid, |x| v::sigmoid(x));
            }

            /// `f64` kernels.
            mod k64 {
                use crate::simd::isa::$isa::f64 as v;

                arith_kernels!($feat, f64, v);
            }

            /// The `f32` table. Handed out only from the path's `PathVisitor` method.
            pub(in crate::simd) static F32: Kernels<f32> = Kernels {
                path: SimdPath::$path,
                add: k32::add,
                sub: k32::sub,
                mul: k32::mul,
                div: k32::div,
                add_assign: k32::add_assign,
                mul_assign: k32::mul_assign,
                axpy: k32::axpy,
                scale: k32::scale,
                exp: k32::exp,
                tanh: k32::tanh,
                sigmoid: k32::sigmoid,
                relu: k32::relu,
                sum: k32::sum,
                max: k32::max,
                dot: k32::dot,
            };

            /// The `f64` table. Handed out only from the path's `PathVisitor` method.
            pub(in crate::simd) static F64: Kernels<f64> = Kernels {
                path: SimdPath::$path,
                add: k64::add,
                sub: k64::sub,
                mul: k64::mul,
                div: k64::div,
                add_assign: k64::add_assign,
                mul_assign: k64::mul_assign,
                axpy: k64::axpy,
                scale: k64::scale,
                exp: scalar::exp::<f64>,
                tanh: scalar::tanh::<f64>,
                sigmoid: scalar::sigmoid_slice::<f64>,
                relu: k64::relu,
                sum: k64::sum,
                max: k64::max,
                dot: k64::dot,
            };
        }
    };
}

path_tables!(Avx2, "avx2,fma", avx2);
path_tables!(Avx512, "avx512f", avx512);
