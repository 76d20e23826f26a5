#!/usr/bin/python3
"""Prints the reference-tissue table of src/QctPipeline/Calibrate/ReferenceTissueModel.cs.

Mass attenuation coefficients: NIST XCOM through xraylib (Debian python3-xraylib 4.0; CS_Total_CP, coherent
included), compositions as NIST tabulates them (ICRP adipose, dry air, water), ICRU-44 skeletal muscle and blood (below), and
hydroxyapatite Ca10(PO4)6(OH)2 at 3.16 g/cm3. Spectrum: Kramers bremsstrahlung (photons ~ (kVp - E)/E) hardened by
7 mm aluminium (inherent + flat + bow-tie centre) and the patient's water path, weighted by energy
(energy-integrating detector). A material's CT number is the spectrum-weighted mean of its linear attenuation.
Rows: every 10 kVp from 70 to 150, each at water paths of 150-400 mm (the patient's water-equivalent diameter,
which the calibrator measures on the image, decides the path). Each row also gives the HA slope's relative spread
(1 SD) over filtrations of 4-10 mm Al, a uniform spread around the 7 mm assumed: the beam the tissues cannot
reveal, carried into the slope's uncertainty.
Run: /usr/bin/python3 scripts/internal-calibration-table.py
"""
import xraylib as x

ALUMINIUM_MM = 7.0
WATER_PATHS_MM = [150.0, 200.0, 250.0, 300.0, 350.0, 400.0]
FILTRATION_RANGE_MM = (4.0, 10.0)


# ICRU Report 44 (1989) compositions (mass fractions) where xraylib's NIST list has another source's: its "Muscle,
# Skeletal" is ICRP's at 1.04 g/cm3 (33 HU at 120 kVp, below the 40-50 HU muscle measures). Blood takes ICRU-44's
# composition at 1.05 rather than its 1.06 g/cm3: unenhanced aortic blood measures 40-50 HU at a normal haematocrit
# (Bae, Radiology 2010), ICRP blood at 1.06 reads 54 HU.
ICRU44 = {
    'muscle': (1.05, {1: 0.102, 6: 0.143, 7: 0.034, 8: 0.710, 11: 0.001, 15: 0.002, 16: 0.003, 17: 0.001, 19: 0.004}),
    'blood': (1.05, {1: 0.102, 6: 0.110, 7: 0.033, 8: 0.745, 11: 0.001, 15: 0.001, 16: 0.002, 17: 0.003, 19: 0.002, 26: 0.001}),
}


def mu(name, energy):
    if name == 'Al':
        return 2.699 * x.CS_Total(13, energy)
    if name in ICRU44:
        density, fractions = ICRU44[name]
        return density * sum(fraction * x.CS_Total(z, energy) for z, fraction in fractions.items())
    data = x.GetCompoundDataNISTByName(name)
    return data['density'] * x.CS_Total_CP(name, energy)


def weights(kvp, aluminium_mm, water_path_mm):
    energies, result = [], []
    energy = 10.25
    while energy < kvp:
        photons = (kvp - energy) / energy
        hardening = mu('Al', energy) * aluminium_mm / 10 + mu('Water, Liquid', energy) * water_path_mm / 10
        energies.append(energy)
        result.append(photons * 2.718281828459045 ** (-hardening) * energy)
        energy += 0.5
    total = sum(result)
    return energies, [w / total for w in result]


def effective(kvp, attenuation, aluminium_mm=ALUMINIUM_MM, water_path_mm=250.0):
    energies, w = weights(kvp, aluminium_mm, water_path_mm)
    return sum(wi * attenuation(e) for e, wi in zip(energies, w))


def row(kvp, aluminium_mm, water_path_mm):
    """HA slope (HU per mg/cm3) and the HU of air, fat, muscle and blood under one beam."""
    def eff(attenuation):
        return effective(kvp, attenuation, aluminium_mm, water_path_mm)

    water = eff(lambda e: mu('Water, Liquid', e))
    air = eff(lambda e: mu('Air, Dry (near sea level)', e))

    def hu(name):
        return 1000 * (eff(lambda e: mu(name, e)) - water) / (water - air)

    # HA dispersed in water: each mg displaces 1/3.16 mm3 of water.
    ha_mass = eff(lambda e: x.CS_Total_CP('Ca10(PO4)6(OH)2', e))
    slope = (ha_mass - water / 3.16) / (water - air)  # HU per mg/cm3
    return slope, [-1000.0, hu('Adipose Tissue (ICRP)'), hu('muscle'), hu('blood')]


for kvp in range(70, 151, 10):
    for path in WATER_PATHS_MM:
        slope, rows = row(kvp, ALUMINIUM_MM, path)
        # Filtration uniform on 4-10 mm Al: SD = half-range / sqrt(3), taken from the slopes at the two ends.
        low, high = row(kvp, FILTRATION_RANGE_MM[0], path)[0], row(kvp, FILTRATION_RANGE_MM[1], path)[0]
        spread = abs(low - high) / 2 / 3 ** 0.5 / slope
        print(f'        new({kvp}, {path:.0f}, {slope:.4f}, {rows[0] / slope:.1f}, {rows[1] / slope:.2f}, {rows[2] / slope:.2f}, {rows[3] / slope:.2f}, {spread:.4f}), '
              f'// HU fat/muscle/blood {rows[1]:.1f}/{rows[2]:.1f}/{rows[3]:.1f}')
