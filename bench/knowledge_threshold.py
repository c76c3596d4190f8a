"""
The old name of `python -m bench.answer_decision`: when the cosine similarity
alone decided whether to answer, this found its threshold. The decision now
weighs more evidence (knowledge.answerability), and its calibration replaces it.

    python -m bench.knowledge_threshold [--json]
"""

from bench.answer_decision import main

if __name__ == "__main__":
    main()
