"""The vocabulary of features and equipment tags a resource can carry.

Tags are stored by code; labels live here in both languages so that the
catalogue, the filters and the API agree on one list.
"""

FEATURES: dict[str, tuple[str, str]] = {
    # code: (Romanian label, English label)
    "projector": ("Videoproiector", "Projector"),
    "whiteboard": ("Tablă albă", "Whiteboard"),
    "video-conference": ("Videoconferință", "Video conferencing"),
    "sound-system": ("Sistem de sonorizare", "Sound system"),
    "recording": ("Înregistrare video", "Lecture recording"),
    "interpretation-booth": ("Cabină de interpretariat", "Interpretation booth"),
    "computers": ("Calculatoare", "Computers"),
    "wifi": ("Wi-Fi", "Wi-Fi"),
    "wheelchair-access": ("Acces scaun rulant", "Wheelchair access"),
    "air-conditioning": ("Aer condiționat", "Air conditioning"),
    "fume-hood": ("Nișă chimică", "Fume hood"),
    "biosafety-cabinet": ("Hotă de biosiguranță", "Biosafety cabinet"),
    "bsl2": ("Nivel de biosiguranță 2", "Biosafety level 2"),
    "cleanroom": ("Cameră curată", "Cleanroom"),
    "cold-room": ("Cameră frigorifică", "Cold room"),
    "gas-supply": ("Alimentare cu gaze tehnice", "Technical gas supply"),
    "oscilloscopes": ("Osciloscoape", "Oscilloscopes"),
    "3d-printer": ("Imprimantă 3D", "3D printer"),
    "microscope": ("Microscop", "Microscope"),
    "greenhouse": ("Seră", "Greenhouse"),
    "changing-rooms": ("Vestiare", "Changing rooms"),
    "showers": ("Dușuri", "Showers"),
    "floodlights": ("Nocturnă", "Floodlights"),
    "indoor": ("Interior", "Indoor"),
    "outdoor": ("Exterior", "Outdoor"),
    "spectator-seating": ("Tribună", "Spectator seating"),
    "private-bathroom": ("Baie proprie", "Private bathroom"),
    "kitchenette": ("Chicinetă", "Kitchenette"),
    "bed-linen": ("Lenjerie inclusă", "Bed linen included"),
    "training-required": ("Necesită instruire", "Training required"),
    "operator-assisted": ("Cu operator", "Operator assisted"),
    "data-export": ("Export de date", "Data export"),
}


def feature_label(code: str, locale: str) -> str:
    ro, en = FEATURES.get(code, (code, code))
    return ro if locale == "ro" else en
