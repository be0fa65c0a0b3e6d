"""News-like texts written for docpipe's entity evaluation, with their names annotated.

Each text lists its names with their OntoNotes labels (what the English model tags); every
whole-word occurrence of a name is a gold mention, longer names first, as annotators of
CoNLL and OntoNotes mark every mention. `make eval` scores the model alone and the model
with the document-wide step (`tasks.entity_names`) against them.
"""

from __future__ import annotations

TEXTS: list[tuple[str, dict[str, str]]] = [
    (
        "The Shanghai Cooperation Organization (SCO) met in Astana on Tuesday. Leaders of the "
        "SCO discussed trade with Kazakhstan and Uzbekistan. Analysts in Moscow said the SCO "
        "would expand. Vladimir Putin attended the meeting, and Putin later met Xi Jinping. "
        "Xi said China and Russia shared goals.",
        {"Shanghai Cooperation Organization": "ORG", "SCO": "ORG", "Astana": "GPE",
         "Kazakhstan": "GPE", "Uzbekistan": "GPE", "Moscow": "GPE", "Vladimir Putin": "PERSON",
         "Putin": "PERSON", "Xi Jinping": "PERSON", "Xi": "PERSON", "China": "GPE",
         "Russia": "GPE"},
    ),
    (
        "North Yorkshire Police closed the coast road near Whitby after a landslide on Sunday. "
        "Residents of Whitby were told to avoid the area. A spokesman for North Yorkshire "
        "Police said engineers from Scarborough would inspect the cliff. The road to Whitby "
        "may stay closed for a week.",
        {"North Yorkshire Police": "ORG", "Whitby": "GPE", "Scarborough": "GPE"},
    ),
    (
        "The World Health Organization warned on Monday that cases were rising in Brazil. "
        "WHO officials said Brazil and Argentina should expand testing. Maria Santos, a "
        "doctor in Sao Paulo, said hospitals were full. Santos added that the WHO had sent "
        "supplies to Sao Paulo.",
        {"World Health Organization": "ORG", "WHO": "ORG", "Brazil": "GPE", "Argentina": "GPE",
         "Maria Santos": "PERSON", "Santos": "PERSON", "Sao Paulo": "GPE"},
    ),
    (
        "Microsoft agreed to buy a software firm in Toronto for an undisclosed sum. Satya "
        "Nadella, the chief executive of Microsoft, said the deal would help its cloud "
        "business. Nadella told investors in Seattle that Microsoft expected approval from "
        "regulators in Canada and the European Union.",
        {"Microsoft": "ORG", "Toronto": "GPE", "Satya Nadella": "PERSON", "Nadella": "PERSON",
         "Seattle": "GPE", "Canada": "GPE", "European Union": "ORG"},
    ),
    (
        "Angela Merkel visited Paris on Thursday to meet Emmanuel Macron. Merkel and Macron "
        "discussed the budget of the European Union. Macron said France and Germany agreed "
        "on most points, while Merkel said talks in Brussels would continue.",
        {"Angela Merkel": "PERSON", "Paris": "GPE", "Emmanuel Macron": "PERSON",
         "Merkel": "PERSON", "Macron": "PERSON", "European Union": "ORG", "France": "GPE",
         "Germany": "GPE", "Brussels": "GPE"},
    ),
    (
        "The International Monetary Fund (IMF) cut its forecast for Japan. The IMF said "
        "exports from Japan fell in the spring. Kristalina Georgieva, who leads the IMF, "
        "told reporters in Tokyo that Georgieva's team would return in the autumn.",
        {"International Monetary Fund": "ORG", "IMF": "ORG", "Japan": "GPE",
         "Kristalina Georgieva": "PERSON", "Georgieva": "PERSON", "Tokyo": "GPE"},
    ),
    (
        "Samsung Electronics reported higher profits on Friday. Samsung said demand for "
        "memory chips in China and the United States recovered. Lee Jae-yong, the chairman "
        "of Samsung Electronics, visited a plant in Texas, where Lee met local officials.",
        {"Samsung Electronics": "ORG", "Samsung": "ORG", "China": "GPE",
         "United States": "GPE", "Lee Jae-yong": "PERSON", "Lee": "PERSON", "Texas": "GPE"},
    ),
    (
        "Floods hit Bangladesh after heavy rain, and the Red Cross sent teams to Sylhet. The "
        "Red Cross said thousands had left their homes around Sylhet. Officials in Dhaka "
        "asked India for help, and India sent boats to Bangladesh on Saturday.",
        {"Bangladesh": "GPE", "Red Cross": "ORG", "Sylhet": "GPE", "Dhaka": "GPE",
         "India": "GPE"},
    ),
]  # fmt: skip
