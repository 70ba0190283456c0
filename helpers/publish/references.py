"""The collection's bibliography: every method a report cites, written once.

A report ends with a short "Methods and references" section listing what it used::

    report.references(["wilson1927", "spiegelhalter2005a"])

returns a Markdown list of the full references, in the order given.
"""
from __future__ import annotations

__all__ = ["REFERENCES", "references"]

REFERENCES: dict[str, str] = {
    "wilson1927": "Wilson EB (1927). Probable inference, the law of succession, and statistical inference. "
                  "*Journal of the American Statistical Association* 22:209–212.",
    "clopper1934": "Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the case "
                   "of the binomial. *Biometrika* 26:404–413.",
    "spiegelhalter2005a": "Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. "
                          "*Statistics in Medicine* 24:1185–1202.",
    "spiegelhalter2005b": "Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. "
                          "*Quality and Safety in Health Care* 14:347–351.",
    "goldstein1996": "Goldstein H, Spiegelhalter DJ (1996). League tables and their limitations: statistical issues "
                     "in comparisons of institutional performance. *JRSS A* 159:385–443.",
    "fayherriot1979": "Fay RE, Herriot RA (1979). Estimates of income for small places: an application of James-Stein "
                      "procedures to census data. *Journal of the American Statistical Association* 74:269–277.",
    "raomolina2015": "Rao JNK, Molina I (2015). *Small Area Estimation*, 2nd ed. Wiley.",
    "dattarao2005": "Datta GS, Rao JNK, Smith DD (2005). On measuring the variability of small area estimators under "
                    "a basic area level model. *Biometrika* 92:183–196.",
    "callaway2021": "Callaway B, Sant'Anna PHC (2021). Difference-in-differences with multiple time periods. "
                    "*Journal of Econometrics* 225:200–230.",
    "goodmanbacon2021": "Goodman-Bacon A (2021). Difference-in-differences with variation in treatment timing. "
                        "*Journal of Econometrics* 225:254–277.",
    "anselin1995": "Anselin L (1995). Local indicators of spatial association — LISA. *Geographical Analysis* "
                   "27:93–115.",
    "assuncao1999": "Assunção RM, Reis EA (1999). A new proposal to adjust Moran's I for population density. "
                    "*Statistics in Medicine* 18:2147–2162.",
    "moran1950": "Moran PAP (1950). Notes on continuous stochastic phenomena. *Biometrika* 37:17–23.",
    "benjamini1995": "Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a practical and powerful "
                     "approach to multiple testing. *JRSS B* 57:289–300.",
    "lumley2010": "Lumley T (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.",
    "binder1983": "Binder DA (1983). On the variances of asymptotically normal estimators from complex surveys. "
                  "*International Statistical Review* 51:279–292.",
    "raoscott1984": "Rao JNK, Scott AJ (1984). On chi-squared tests for multiway contingency tables with cell "
                    "proportions estimated from survey data. *Annals of Statistics* 12:46–60.",
    "deville1992": "Deville JC, Särndal CE (1992). Calibration estimators in survey sampling. *Journal of the "
                   "American Statistical Association* 87:376–382.",
    "wolter2007": "Wolter KM (2007). *Introduction to Variance Estimation*, 2nd ed. Springer.",
    "mccullagh1980": "McCullagh P (1980). Regression models for ordinal data. *JRSS B* 42:109–142.",
    "cameron2015": "Cameron AC, Miller DL (2015). A practitioner's guide to cluster-robust inference. *Journal of "
                   "Human Resources* 50:317–372.",
    "solon2015": "Solon G, Haider SJ, Wooldridge JM (2015). What are we weighting for? *Journal of Human Resources* "
                 "50:301–316.",
    "chamberlain1980": "Chamberlain G (1980). Analysis of covariance with qualitative data. *Review of Economic "
                       "Studies* 47:225–238.",
    "bates2015": "Bates D, Mächler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models using lme4. "
                 "*Journal of Statistical Software* 67(1).",
    "baron1986": "Baron RM, Kenny DA (1986). The moderator-mediator variable distinction in social psychological "
                 "research. *Journal of Personality and Social Psychology* 51:1173–1182.",
    "vanderweele2015": "VanderWeele TJ (2015). *Explanation in Causal Inference: Methods for Mediation and "
                       "Interaction*. Oxford University Press.",
    "spearman1904": "Spearman C (1904). The proof and measurement of association between two things. *American "
                    "Journal of Psychology* 15:72–101.",
    "oecd2008": "OECD, JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*. OECD.",
    "saisana2005": "Saisana M, Saltelli A, Tarantola S (2005). Uncertainty and sensitivity analysis techniques as "
                   "tools for the quality assessment of composite indicators. *JRSS A* 168:307–323.",
    "cohen1988": "Cohen J (1988). *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed. Erlbaum.",
    "efron1993": "Efron B, Tibshirani RJ (1993). *An Introduction to the Bootstrap*. Chapman & Hall.",
    "allison1982": "Allison PD (1982). Discrete-time methods for the analysis of event histories. *Sociological "
                   "Methodology* 13:61–98.",
    "roth2023": "Roth J, Sant'Anna PHC, Bilinski A, Poe J (2023). What's trending in difference-in-differences? A "
                "synthesis of the recent econometrics literature. *Journal of Econometrics* 235:2218–2244.",
    "fieller1957": "Fieller EC, Hartley HO, Pearson ES (1957). Tests for rank correlation coefficients. I. "
                   "*Biometrika* 44:470–481.",
    "marshall1991": "Marshall RJ (1991). Mapping disease and mortality rates using empirical Bayes estimators. "
                    "*Applied Statistics* 40:283–294.",
    "rey2007": "Rey SJ, Anselin L (2007). PySAL: a Python library of spatial analytical methods. *Review of Regional "
               "Studies* 37:5–27.",
    "cressie1985": "Cressie N, Read TRC (1985). Do sudden infant deaths come in clusters? *Statistics and Decisions*, "
                   "Supplement Issue 2:333–349.",
    "cressie1993": "Cressie N (1993). *Statistics for Spatial Data*, revised ed. Wiley.",
    "welch1947": "Welch BL (1947). The generalization of 'Student's' problem when several different population "
                 "variances are involved. *Biometrika* 34:28–35.",
    "kish1965": "Kish L (1965). *Survey Sampling*. Wiley.",
    "lumley2017": "Lumley T, Scott AJ (2017). Fitting regression models to survey data. *Statistical Science* "
                  "32:265–278.",
}


def references(keys) -> str:
    """A Markdown bulleted list of the references ``keys`` (in that order); an unknown key is an error."""
    missing = [k for k in keys if k not in REFERENCES]
    if missing:
        raise KeyError(f"unknown references {missing}; add them to helpers.publish.references.REFERENCES")
    return "\n".join(f"- {REFERENCES[k]}" for k in dict.fromkeys(keys))
