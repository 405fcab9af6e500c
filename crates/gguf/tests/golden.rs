//! Bit-exactness against gguf-py (`gguf.quants.dequantize`, gguf==0.19.0), using the
//! committed `tests/data/golden.gguf` written by `tests/fixtures/gguf_golden.py golden`:
//! for each type a tensor of random valid blocks and an F32 `<type>.expected` tensor with
//! gguf-py's output. Also checks the reader against a file written by gguf-py's GGUFWriter.

use std::path::PathBuf;
use std::process::Command;

use flint_gguf::{
    GgmlType, GgufFile, MetadataArray, MetadataValue, dequantize, dequantize_par, dequantize_to_vec,
};

const TYPES: [GgmlType; 13] = [
    GgmlType::F32,
    GgmlType::F16,
    GgmlType::BF16,
    GgmlType::Q4_0,
    GgmlType::Q4_1,
    GgmlType::Q5_0,
    GgmlType::Q5_1,
    GgmlType::Q8_0,
    GgmlType::Q2_K,
    GgmlType::Q3_K,
    GgmlType::Q4_K,
    GgmlType::Q5_K,
    GgmlType::Q6_K,
];

fn golden_path() -> PathBuf {
    flint_tests::repo_root().join("crates/gguf/tests/data/golden.gguf")
}

fn golden() -> GgufFile {
    GgufFile::open(golden_path()).unwrap()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// The first index where two outputs differ, for a readable failure.
fn assert_bits_eq(ty: GgmlType, ours: &[f32], expected: &[f32]) {
    assert_eq!(ours.len(), expected.len(), "{ty}");
    if let Some(i) = (0..ours.len()).find(|&i| ours[i].to_bits() != expected[i].to_bits()) {
        panic!(
            "{ty}: element {i}: ours {} expected {}",
            ours[i], expected[i]
        );
    }
}

#[test]
fn every_type_is_bit_exact_with_gguf_py() {
    let file = golden();
    for ty in TYPES {
        let name = ty.name().to_lowercase();
        let info = file.tensor(&name).unwrap();
        assert_eq!(info.ggml_type(), ty);
        let expected = file
            .dequantize_tensor(file.tensor(&format!("{name}.expected")).unwrap())
            .unwrap();
        let bytes = file.tensor_bytes(info);
        let n = info.n_elements() as usize;

        let mut serial = vec![f32::NAN; n];
        dequantize(ty, bytes, n, &mut serial).unwrap();
        assert_bits_eq(ty, &serial, &expected);

        let mut par = vec![f32::NAN; n];
        dequantize_par(ty, bytes, n, &mut par).unwrap();
        assert_eq!(bits(&par), bits(&serial), "{ty} parallel");
        assert_eq!(
            bits(&dequantize_to_vec(ty, bytes, n).unwrap()),
            bits(&serial)
        );
        assert_eq!(bits(&file.dequantize_tensor(info).unwrap()), bits(&serial));

        // Quantized outputs are finite (the scales are); the raw float types include NaNs.
        if ty.block_size() > 1 {
            assert!(serial.iter().all(|x| x.is_finite()), "{ty}");
        }
    }
}

/// Decoding block by block gives the same result as decoding the whole run at once.
#[test]
fn blocks_decode_independently() {
    let file = golden();
    for ty in TYPES {
        let info = file.tensor(&ty.name().to_lowercase()).unwrap();
        let whole = file.dequantize_tensor(info).unwrap();
        let (bs, ts) = (ty.block_size(), ty.type_size());
        for (i, block) in file.tensor_bytes(info).chunks(ts).enumerate() {
            let mut out = vec![0.0; bs];
            dequantize(ty, block, bs, &mut out).unwrap();
            assert_eq!(
                bits(&out),
                bits(&whole[i * bs..(i + 1) * bs]),
                "{ty} block {i}"
            );
        }
    }
}

#[test]
fn reads_gguf_py_writer_output() {
    let file = golden();
    assert_eq!(file.version(), 3);
    assert_eq!(file.alignment(), 64);
    assert_eq!(file.data_offset() % 64, 0);
    for t in file.tensors() {
        assert_eq!(t.offset() % 64, 0, "{}", t.name());
    }
    assert_eq!(file.get_str("general.architecture").unwrap(), "golden");
    assert_eq!(file.get("test.u8"), Some(&MetadataValue::U8(200)));
    assert_eq!(file.get("test.i8"), Some(&MetadataValue::I8(-100)));
    assert_eq!(file.get("test.u16"), Some(&MetadataValue::U16(60000)));
    assert_eq!(file.get("test.i16"), Some(&MetadataValue::I16(-30000)));
    assert_eq!(
        file.get("test.u32"),
        Some(&MetadataValue::U32(4_000_000_000))
    );
    assert_eq!(
        file.get("test.i32"),
        Some(&MetadataValue::I32(-2_000_000_000))
    );
    assert_eq!(file.get("test.f32"), Some(&MetadataValue::F32(0.1)));
    assert_eq!(file.get("test.bool"), Some(&MetadataValue::Bool(true)));
    assert_eq!(file.get_str("test.string").unwrap(), "héllo ✓");
    assert_eq!(
        file.get("test.u64"),
        Some(&MetadataValue::U64((1 << 63) + 5))
    );
    assert_eq!(file.get("test.i64"), Some(&MetadataValue::I64(-(1 << 62))));
    assert_eq!(file.get("test.f64"), Some(&MetadataValue::F64(0.1)));
    assert_eq!(
        file.get_array("test.array_u8").unwrap(),
        &MetadataArray::U8(vec![1, 2, 255])
    );
    assert_eq!(file.get_f32_array("test.array_f32").unwrap(), [0.5, -1.25]);
    assert_eq!(
        file.get_str_array("test.array_str").unwrap(),
        ["a", "", "ü"]
    );
    assert_eq!(
        file.get_array("test.array_nested").unwrap(),
        &MetadataArray::Array(vec![
            MetadataArray::I32(vec![1, 2]),
            MetadataArray::I32(vec![3]),
        ])
    );
    let q4k = file.tensor("q4_k").unwrap();
    assert_eq!(q4k.shape(), [512, 2]);
    assert_eq!(q4k.shape_row_major(), [2, 512]);
    assert_eq!(q4k.n_bytes(), 4 * 144);
}

/// The committed golden file is exactly what the script produces (needs python3 + gguf).
#[test]
fn golden_file_is_reproducible() {
    let root = flint_tests::repo_root();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("golden.gguf");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let status = Command::new(python)
        .arg(root.join("tests/fixtures/gguf_golden.py"))
        .args(["golden", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs (scripts/setup-python.sh installs gguf and numpy)");
    assert!(status.success());
    assert!(
        std::fs::read(&out).unwrap() == std::fs::read(golden_path()).unwrap(),
        "tests/data/golden.gguf is stale: rerun tests/fixtures/gguf_golden.py golden"
    );
}
