//! A least-squares line through (size, time) points: the constant says what a load costs
//! before its first byte, the slope what each further gigabyte costs.

pub struct Line {
    /// Intercept (ms at 0 GB).
    pub a: f64,
    /// Slope (ms per GB).
    pub b: f64,
    /// Coefficient of determination: 1 for points exactly on the line.
    pub r2: f64,
    /// The largest distance of a point from the line, relative to the point (0.1 = 10 %).
    pub worst_relative_residual: f64,
}

/// Fits `y = a + b x`; `None` below two distinct `x`.
pub fn line(points: &[(f64, f64)]) -> Option<Line> {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    if points.len() < 2 || sxx <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    let a = mean_y - b * mean_x;
    let residual = |p: &(f64, f64)| p.1 - (a + b * p.0);
    let ss_res: f64 = points.iter().map(|p| residual(p).powi(2)).sum();
    let ss_tot: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    let r2 = if ss_tot > 0.0 {
        1.0 - ss_res / ss_tot
    } else {
        1.0
    };
    let worst_relative_residual = points
        .iter()
        .map(|p| (residual(p) / p.1).abs())
        .fold(0.0, f64::max);
    Some(Line {
        a,
        b,
        r2,
        worst_relative_residual,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn points_on_a_line_give_it_back() {
        let fit = super::line(&[(0.27, 127.0), (2.47, 1117.0), (6.43, 2899.0)]).unwrap();
        assert!((fit.b - 450.0).abs() < 1e-9 && (fit.a - 5.5).abs() < 1e-9);
        assert!((fit.r2 - 1.0).abs() < 1e-12);
        assert!(super::line(&[(1.0, 2.0)]).is_none());
    }
}
