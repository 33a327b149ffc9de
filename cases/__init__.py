"""有问必答: residents' messages become numbered cases that staff answer within working-day deadlines."""
